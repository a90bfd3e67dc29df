import { useReelkitClient } from "@reelkit/react";
import { ReelkitApiError, type Video } from "@reelkit/sdk";
import { type FormEvent, useEffect, useId, useRef, useState } from "react";
import { Link } from "react-router";
import { statusLabel } from "../format.js";
import { mediaUrl } from "../media-url.js";
import { useMyVideoIds } from "../my-videos-store.js";
import { useDocumentTitle } from "../use-document-title.js";

/** While a video is queued or processing its row re-reads it at this interval. */
const REFRESH_MS = 3_000;

export function MyVideosPage() {
  useDocumentTitle("My videos");
  const { ids, forget } = useMyVideoIds();
  return (
    <section aria-labelledby="mine-heading">
      <h1 id="mine-heading">My videos</h1>
      <p className="demo-muted">Videos uploaded from this browser.</p>
      {ids.length === 0 ? (
        <p>
          Nothing here yet. <Link to="/upload">Share your first video</Link>
        </p>
      ) : (
        <ul className="demo-mine">
          {ids.map((id) => (
            <MyVideoRow key={id} id={id} onGone={forget} />
          ))}
        </ul>
      )}
    </section>
  );
}

type RowState =
  | { kind: "loading" }
  | { kind: "loaded"; video: Video }
  | { kind: "error"; message: string }
  | { kind: "gone" };

const isActive = (v: Video) => v.status !== "READY" && v.status !== "FAILED";

/**
 * One video: plain reads (polled while processing) rather than a status stream per row, so a
 * long list cannot exhaust the browser's connections to the server.
 */
function useMyVideo(id: string): [RowState, (video: Video) => void] {
  const client = useReelkitClient();
  const [state, setState] = useState<RowState>({ kind: "loading" });
  const [tick, setTick] = useState(0);
  // biome-ignore lint/correctness/useExhaustiveDependencies: `tick` schedules the next read
  useEffect(() => {
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    client.get(id, controller).then(
      (video) => {
        if (controller.signal.aborted) return;
        setState({ kind: "loaded", video });
        if (isActive(video)) timer = setTimeout(() => setTick((t) => t + 1), REFRESH_MS);
      },
      (error: unknown) => {
        if (controller.signal.aborted) return;
        if (error instanceof ReelkitApiError && error.status === 404) setState({ kind: "gone" });
        else setState({ kind: "error", message: error instanceof Error ? error.message : String(error) });
      },
    );
    return () => {
      controller.abort();
      clearTimeout(timer);
    };
  }, [client, id, tick]);
  return [state, (video) => setState({ kind: "loaded", video })];
}

function MyVideoRow({ id, onGone }: { id: string; onGone: (id: string) => void }) {
  const [state, setVideo] = useMyVideo(id);
  const gone = state.kind === "gone";
  // A video deleted elsewhere (or by an admin) drops out of the list for good.
  useEffect(() => {
    if (gone) onGone(id);
  }, [gone, id, onGone]);

  if (state.kind === "gone") return null;
  if (state.kind === "loading") {
    return (
      <li className="demo-mine-row demo-muted" aria-busy="true">
        Loading…
      </li>
    );
  }
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
  const [title, setTitle] = useState(video.title);
  const [description, setDescription] = useState(video.description);
  const poster = mediaUrl(client, video.posterUrl);
  // Move focus into the form or the confirmation that replaced the button just pressed.
  const titleInput = useRef<HTMLInputElement>(null);
  const keepButton = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (mode === "edit") titleInput.current?.focus();
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
    setTitle(video.title);
    setDescription(video.description);
    setError(null);
    setMode("edit");
  };
  const save = (e: FormEvent) => {
    e.preventDefault();
    void act(async () => {
      onChange(await client.update(video.id, { title: title.trim(), description }));
      setMode("view");
    });
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
          Status: <strong>{statusLabel(video.status)}</strong>
          {video.status === "PROCESSING" && ` (${Math.floor(video.progress)}%)`}
          {video.status === "FAILED" && video.failureReason && ` — ${video.failureReason}`}
        </p>
        {mode === "edit" && (
          <form className="demo-edit" onSubmit={save} aria-label={`Edit ${video.title}`}>
            <label htmlFor={`${ids}-edit-title`}>Title</label>
            <input
              id={`${ids}-edit-title`}
              ref={titleInput}
              className="rk-input"
              required
              maxLength={200}
              value={title}
              onChange={(e) => setTitle(e.target.value)}
            />
            <label htmlFor={`${ids}-edit-description`}>Description</label>
            <textarea
              id={`${ids}-edit-description`}
              className="rk-input"
              maxLength={5000}
              rows={3}
              value={description}
              onChange={(e) => setDescription(e.target.value)}
            />
            <div className="demo-actions">
              <button type="submit" className="demo-button" disabled={busy || !title.trim()}>
                Save
              </button>
              <button type="button" className="demo-button demo-button--plain" onClick={() => setMode("view")}>
                Cancel
              </button>
            </div>
          </form>
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
