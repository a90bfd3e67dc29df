import { useVideo, VideoPlayer, type VideoPlayerHandle } from "@reelkit/react";
import { ReelkitApiError, type Video } from "@reelkit/sdk";
import { useRef } from "react";
import { Link, useParams, useSearchParams } from "react-router";
import { SharePanel } from "../components/share-panel.js";
import { formatDate, formatDuration, statusLabel } from "../format.js";
import { parseStartTime } from "../start-time.js";
import { useDocumentTitle } from "../use-document-title.js";

export function WatchPage() {
  const { id = "" } = useParams();
  // `?t=90` (or `1m30s`, `1:30`): a link to a moment, as the share panel makes.
  const [params] = useSearchParams();
  const startTime = parseStartTime(params.get("t"));
  const player = useRef<VideoPlayerHandle>(null);
  // Follows the status stream while the video is processing, then reads the finished video.
  const { video, error, loading } = useVideo(id);
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
  const meta = [
    video.publishedAt ? `Published ${formatDate(video.publishedAt)}` : null,
    video.duration !== null ? formatDuration(video.duration) : null,
    video.height ? `up to ${video.height}p` : null,
  ]
    .filter(Boolean)
    .join(" · ");
  return (
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
          Still processing ({Math.floor(video.progress)}%): playing what is ready, the rest follows.
        </p>
      )}
      <h1 id="watch-heading" className="demo-watch-title">
        {video.title || "Untitled"}
      </h1>
      {meta && <p className="demo-muted">{meta}</p>}
      {video.status === "READY" && <SharePanel videoId={video.id} player={player} />}
      {video.description && <p className="demo-description">{video.description}</p>}
    </article>
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
        {statusLabel(video.status)}
        {video.status === "PROCESSING" ? ` — ${percent}%` : "…"}
      </p>
      <progress className="rk-progress" aria-label="Processing progress" max={100} value={video.progress} />
      <p className="demo-muted">The video plays here as soon as its first seconds are ready.</p>
    </div>
  );
}
