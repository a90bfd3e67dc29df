import { useReelkitClient, useVideo, VideoPlayer, type VideoPlayerHandle, waitingInLine } from "@reelkit/react";
import { ReelkitApiError, type Video } from "@reelkit/sdk";
import { useEffect, useRef, useState } from "react";
import { Link, useNavigate, useParams, useSearchParams } from "react-router";
import { ChannelAvatar } from "../components/channel-avatar.js";
import { LinkedText } from "../components/linked-text.js";
import { SharePanel } from "../components/share-panel.js";
import { VISIBILITY_LABEL, VideoEditForm } from "../components/video-fields.js";
import { VideoCard } from "../components/video-grid.js";
import { formatDate, formatDuration, formatViews, statusLabel } from "../format.js";
import { useSession } from "../session.js";
import { parseStartTime } from "../start-time.js";
import { useDocumentTitle } from "../use-document-title.js";

/** Videos in each list beside the player. */
const SIDE_LIST = 8;

export function WatchPage() {
  const { id = "" } = useParams();
  // `?t=90` (or `1m30s`, `1:30`): a link to a moment, as the share panel makes.
  const [params] = useSearchParams();
  const startTime = parseStartTime(params.get("t"));
  const player = useRef<VideoPlayerHandle>(null);
  // Follows the status stream while the video is processing, then reads the finished video.
  const { video: loaded, error, loading } = useVideo(id);
  // The owner's edits replace what was loaded until the next video.
  const [edited, setEdited] = useState<Video | null>(null);
  const video = edited?.id === id ? edited : loaded;
  useDocumentTitle(video?.title ?? "Watch");

  if (error) {
    const missing = error instanceof ReelkitApiError && error.status === 404;
    return (
      <section aria-labelledby="watch-heading">
        <h1 id="watch-heading">{missing ? "Video not found" : "Could not load this video"}</h1>
        <p role="alert">{missing ? "It may have been deleted." : error.message}</p>
        <p>
          <Link to="/">Browse all videos</Link>
        </p>
      </section>
    );
  }
  if (loading || !video) {
    return (
      <p role="status" className="demo-muted">
        Loading…
      </p>
    );
  }
  const published = video.publishedAt ?? null;
  return (
    <div className="demo-watch-layout">
      <article className="demo-watch" aria-labelledby="watch-heading">
        {/* The player mounts once there is something to play (a processing video plays from its
            first seconds on, the rest arriving while it plays); until then the page shows progress. */}
        {video.playable ? (
          <VideoPlayer ref={player} videoId={video.id} startTime={startTime} />
        ) : (
          <ProcessingState video={video} />
        )}
        {video.playable && video.status === "PROCESSING" && (
          <p role="status" className="demo-muted demo-still-processing">
            {video.phase === "ladder"
              ? `Playable — more qualities coming (${Math.floor(video.progress)}%).`
              : `Still processing (${Math.floor(video.progress)}%): playing what is ready, the rest follows.`}
          </p>
        )}
        <h1 id="watch-heading" className="demo-watch-title">
          {video.title || "Untitled"}
        </h1>
        <p className="demo-muted">
          {formatViews(video.viewCount)}
          {published && (
            <>
              <span aria-hidden="true"> · </span>
              <span className="demo-visually-hidden">, </span>
              Published <time dateTime={published}>{formatDate(published)}</time>
            </>
          )}
          {video.duration !== null && (
            <>
              <span aria-hidden="true"> · </span>
              <span className="demo-visually-hidden">, </span>
              {formatDuration(video.duration)}
            </>
          )}
          {video.height ? (
            <>
              <span aria-hidden="true"> · </span>
              <span className="demo-visually-hidden">, </span>
              up to {video.height}p
            </>
          ) : null}
        </p>
        {video.channel && (
          <p className="demo-channel-line">
            <ChannelAvatar channel={video.channel} />
            <Link to={`/c/${video.channel.handle}`}>{video.channel.name}</Link>
            <span className="demo-muted">@{video.channel.handle}</span>
          </p>
        )}
        <OwnerTools video={video} onSaved={setEdited} />
        {video.status === "READY" && <SharePanel videoId={video.id} player={player} />}
        {video.description && (
          <p className="demo-description">
            <LinkedText text={video.description} />
          </p>
        )}
        {video.tags.length > 0 && (
          <ul className="demo-tags" aria-label="Tags">
            {video.tags.map((tag) => (
              <li key={tag}>
                <Link to={`/search?tags=${encodeURIComponent(tag)}`}>#{tag}</Link>
              </li>
            ))}
          </ul>
        )}
      </article>
      <SideLists video={video} />
    </div>
  );
}

/** For the video's owner (or an admin): its visibility, Edit and Delete. */
function OwnerTools({ video, onSaved }: { video: Video; onSaved: (video: Video) => void }) {
  const { user } = useSession();
  const client = useReelkitClient();
  const navigate = useNavigate();
  const [mode, setMode] = useState<"view" | "edit" | "confirm-delete">("view");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const keep = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (mode === "confirm-delete") keep.current?.focus();
  }, [mode]);
  const mine = user && (user.id === video.ownerId || user.role === "admin");
  if (!mine) return null;
  const remove = async () => {
    setBusy(true);
    setError(null);
    try {
      await client.delete(video.id);
      navigate("/mine");
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
      setBusy(false);
    }
  };
  return (
    <section aria-label="Your video" className="demo-owner-tools">
      <p>
        <span className="demo-badge">{VISIBILITY_LABEL[video.visibility]}</span>{" "}
        <span className="demo-muted">
          {video.visibility === "PUBLIC"
            ? "Listed and searchable."
            : video.visibility === "UNLISTED"
              ? "Only people with the link can watch it."
              : "Only you can watch it."}
        </span>
      </p>
      {mode === "view" && (
        <div className="demo-actions">
          <button type="button" className="demo-button demo-button--plain" onClick={() => setMode("edit")}>
            Edit
          </button>
          <button type="button" className="demo-button demo-button--plain" onClick={() => setMode("confirm-delete")}>
            Delete
          </button>
        </div>
      )}
      {mode === "edit" && (
        <VideoEditForm
          video={video}
          onSaved={(saved) => {
            onSaved(saved);
            setMode("view");
          }}
          onCancel={() => setMode("view")}
        />
      )}
      {mode === "confirm-delete" && (
        <fieldset className="demo-confirm">
          <legend>Delete “{video.title || "Untitled"}” for good? This cannot be undone.</legend>
          <div className="demo-actions">
            <button type="button" className="demo-button demo-button--danger" disabled={busy} onClick={remove}>
              Yes, delete
            </button>
            <button type="button" ref={keep} className="demo-button demo-button--plain" onClick={() => setMode("view")}>
              Keep it
            </button>
          </div>
        </fieldset>
      )}
      {error && (
        <p role="alert" className="demo-error">
          {error}
        </p>
      )}
    </section>
  );
}

/** "More from this channel" and related videos (shared tags, then title words). */
function SideLists({ video }: { video: Video }) {
  const client = useReelkitClient();
  const [fromChannel, setFromChannel] = useState<Video[]>([]);
  const [related, setRelated] = useState<Video[]>([]);
  const { id, ownerId } = video;
  useEffect(() => {
    const controller = new AbortController();
    const ignore = () => {};
    if (ownerId) {
      client
        .list({ owner: ownerId, limit: SIDE_LIST + 1 }, controller)
        .then((page) => setFromChannel(page.items.filter((v) => v.id !== id).slice(0, SIDE_LIST)), ignore);
    } else setFromChannel([]);
    client.related(id, { limit: SIDE_LIST * 2 }, controller).then((page) => setRelated(page.items), ignore);
    return () => controller.abort();
  }, [client, id, ownerId]);
  const shown = new Set(fromChannel.map((v) => v.id));
  const others = related.filter((v) => !shown.has(v.id)).slice(0, SIDE_LIST);
  if (fromChannel.length === 0 && others.length === 0) return null;
  return (
    <aside className="demo-side" aria-label="More videos">
      {fromChannel.length > 0 && (
        <section aria-labelledby="from-channel-heading">
          <h2 id="from-channel-heading">More from {video.channel?.name ?? "this channel"}</h2>
          <ul className="demo-side-list">
            {fromChannel.map((v) => (
              <li key={v.id}>
                <VideoCard video={v} compact />
              </li>
            ))}
          </ul>
        </section>
      )}
      {others.length > 0 && (
        <section aria-labelledby="related-heading">
          <h2 id="related-heading">Related videos</h2>
          <ul className="demo-side-list">
            {others.map((v) => (
              <li key={v.id}>
                <VideoCard video={v} compact />
              </li>
            ))}
          </ul>
        </section>
      )}
    </aside>
  );
}

function ProcessingState({ video }: { video: Video }) {
  if (video.status === "FAILED") {
    return (
      <div className="demo-processing demo-processing--failed" role="alert">
        <p>
          <strong>Processing failed:</strong> {video.failureReason ?? "unknown reason"}
        </p>
      </div>
    );
  }
  const percent = Math.floor(video.progress);
  return (
    <div className="demo-processing">
      <p role="status">
        {video.status === "QUEUED" && video.queuePosition
          ? `${waitingInLine(video.queuePosition)}…`
          : `${statusLabel(video.status)}${video.status === "PROCESSING" ? ` — ${percent}%` : "…"}`}
      </p>
      <progress className="rk-progress" aria-label="Processing progress" max={100} value={video.progress} />
      <p className="demo-muted">The video plays here as soon as its first seconds are ready.</p>
    </div>
  );
}
