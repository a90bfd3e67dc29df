import { useReelkitClient } from "@reelkit/react";
import { ReelkitApiError, type Video } from "@reelkit/sdk";
import { useCallback, useEffect, useId, useRef, useState } from "react";
import { Link } from "react-router";
import { VISIBILITY_LABEL, VideoEditForm } from "../components/video-fields.js";
import { statusLabel } from "../format.js";
import { mediaUrl } from "../media-url.js";
import { useDocumentTitle } from "../use-document-title.js";

/** While a video is queued or processing its row re-reads it at this interval. */
const REFRESH_MS = 3_000;

const PAGE_SIZE = 50;

type ListState =
  | { kind: "loading" }
  | { kind: "loaded"; videos: Video[]; nextCursor: string | null }
  | { kind: "error"; message: string };

/** The signed-in user's videos, any status, from the server (`GET /api/videos?mine=1`). */
export function MyVideosPage() {
  useDocumentTitle("My videos");
  const client = useReelkitClient();
  const [state, setState] = useState<ListState>({ kind: "loading" });
  const [more, setMore] = useState(false);

  useEffect(() => {
    const controller = new AbortController();
    client.list({ mine: "1", limit: PAGE_SIZE }, controller).then(
      (page) => setState({ kind: "loaded", videos: page.items, nextCursor: page.nextCursor }),
      (error: unknown) => {
        if (!controller.signal.aborted) setState({ kind: "error", message: messageOf(error) });
      },
    );
    return () => controller.abort();
  }, [client]);

  const loadMore = (cursor: string) => {
    setMore(true);
    client
      .list({ mine: "1", limit: PAGE_SIZE, cursor })
      .then(
        (page) =>
          setState((s) =>
            s.kind === "loaded"
              ? { kind: "loaded", videos: [...s.videos, ...page.items], nextCursor: page.nextCursor }
              : s,
          ),
        (error: unknown) => setState({ kind: "error", message: messageOf(error) }),
      )
      .finally(() => setMore(false));
  };
  const forget = useCallback(
    (id: string) => setState((s) => (s.kind === "loaded" ? { ...s, videos: s.videos.filter((v) => v.id !== id) } : s)),
    [],
  );

  return (
    <section aria-labelledby="mine-heading">
      <h1 id="mine-heading">My videos</h1>
      {state.kind === "loading" && (
        <p role="status" className="demo-muted">
          Loading…
        </p>
      )}
      {state.kind === "error" && <p role="alert">Could not load your videos: {state.message}</p>}
      {state.kind === "loaded" && state.videos.length === 0 && (
        <p>
          Nothing here yet. <Link to="/upload">Share your first video</Link>
        </p>
      )}
      {state.kind === "loaded" && state.videos.length > 0 && (
        <ul className="demo-mine">
          {state.videos.map((v) => (
            <MyVideoRow key={v.id} initial={v} onGone={forget} />
          ))}
        </ul>
      )}
      {state.kind === "loaded" && state.nextCursor && (
        <button
          type="button"
          className="demo-button demo-button--plain"
          disabled={more}
          onClick={() => loadMore(state.nextCursor as string)}
        >
          Load more
        </button>
      )}
    </section>
  );
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

type RowState = { kind: "loaded"; video: Video } | { kind: "error"; message: string } | { kind: "gone" };

const isActive = (v: Video) => v.status !== "READY" && v.status !== "FAILED";

/**
 * One video, re-read while it is processing: plain reads rather than a status stream per row,
 * so a long list cannot exhaust the browser's connections to the server.
 */
function useMyVideo(initial: Video): [RowState, (video: Video) => void] {
  const client = useReelkitClient();
  const [state, setState] = useState<RowState>({ kind: "loaded", video: initial });
  const video = state.kind === "loaded" ? state.video : null;
  const active = video !== null && isActive(video);
  const [tick, setTick] = useState(0);
  // biome-ignore lint/correctness/useExhaustiveDependencies: `tick` schedules the next read
  useEffect(() => {
    if (!active) return;
    const controller = new AbortController();
    const timer = setTimeout(() => {
      client.get(initial.id, controller).then(
        (v) => {
          setState({ kind: "loaded", video: v });
          setTick((t) => t + 1);
        },
        (error: unknown) => {
          if (controller.signal.aborted) return;
          if (error instanceof ReelkitApiError && error.status === 404) setState({ kind: "gone" });
          else setState({ kind: "error", message: messageOf(error) });
        },
      );
    }, REFRESH_MS);
    return () => {
      controller.abort();
      clearTimeout(timer);
    };
  }, [client, initial.id, active, tick]);
  return [state, (v) => setState({ kind: "loaded", video: v })];
}

function MyVideoRow({ initial, onGone }: { initial: Video; onGone: (id: string) => void }) {
  const [state, setVideo] = useMyVideo(initial);
  const id = initial.id;
  const gone = state.kind === "gone";
  // A video deleted elsewhere (or by an admin) drops out of the list.
  useEffect(() => {
    if (gone) onGone(id);
  }, [gone, id, onGone]);

  if (state.kind === "gone") return null;
  if (state.kind === "error") {
    return (
      <li className="demo-mine-row" role="alert">
        Could not load video {id}: {state.message}
      </li>
    );
  }
  return <LoadedRow video={state.video} onChange={setVideo} onDeleted={() => onGone(id)} />;
}

type Mode = "view" | "edit" | "confirm-delete";

function LoadedRow({
  video,
  onChange,
  onDeleted,
}: {
  video: Video;
  onChange: (video: Video) => void;
  onDeleted: () => void;
}) {
  const client = useReelkitClient();
  const ids = useId();
  const [mode, setMode] = useState<Mode>("view");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const poster = mediaUrl(client, video.posterUrl);
  // Move focus into the confirmation that replaced the button just pressed (the edit form
  // focuses its own title).
  const keepButton = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (mode === "confirm-delete") keepButton.current?.focus();
  }, [mode]);

  const act = async (work: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await work();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  const startEdit = () => {
    setError(null);
    setMode("edit");
  };
  const remove = () =>
    act(async () => {
      await client.delete(video.id);
      onDeleted();
    });

  return (
    <li className="demo-mine-row" aria-labelledby={`${ids}-title`}>
      <div className="demo-mine-thumb">{poster ? <img src={poster} alt="" /> : null}</div>
      <div className="demo-mine-body">
        <Link id={`${ids}-title`} to={`/watch/${video.id}`} className="demo-mine-title">
          {video.title || "Untitled"}
        </Link>
        <p className="demo-mine-status">
          {VISIBILITY_LABEL[video.visibility]} · Status: <strong>{statusLabel(video.status)}</strong>
          {video.status === "PROCESSING" && ` (${Math.floor(video.progress)}%)`}
          {video.status === "FAILED" && video.failureReason && ` — ${video.failureReason}`}
        </p>
        {mode === "edit" && (
          <VideoEditForm
            video={video}
            onSaved={(saved) => {
              onChange(saved);
              setMode("view");
            }}
            onCancel={() => setMode("view")}
          />
        )}
        {mode === "confirm-delete" && (
          <fieldset className="demo-confirm">
            <legend>Delete “{video.title}” for good? This cannot be undone.</legend>
            <div className="demo-actions">
              <button type="button" className="demo-button demo-button--danger" disabled={busy} onClick={remove}>
                Yes, delete
              </button>
              <button
                type="button"
                ref={keepButton}
                className="demo-button demo-button--plain"
                onClick={() => setMode("view")}
              >
                Keep it
              </button>
            </div>
          </fieldset>
        )}
        {mode === "view" && (
          <div className="demo-actions">
            <button type="button" className="demo-button demo-button--plain" onClick={startEdit}>
              Edit
            </button>
            <button type="button" className="demo-button demo-button--plain" onClick={() => setMode("confirm-delete")}>
              Delete
            </button>
          </div>
        )}
        {error && (
          <p role="alert" className="demo-error">
            {error}
          </p>
        )}
      </div>
    </li>
  );
}
