import { type UseVideosResult, useReelkitClient } from "@reelkit/react";
import type { Video } from "@reelkit/sdk";
import type { ReactNode } from "react";
import { Link } from "react-router";
import { formatAge, formatDate, formatDuration, formatViews } from "../format.js";
import { mediaUrl } from "../media-url.js";

export interface VideoGridProps {
  result: UseVideosResult;
  /** Shown when the first page came back empty. */
  empty: ReactNode;
}

/** A responsive grid of video cards with cursor pagination ("Load more"). */
export function VideoGrid({ result, empty }: VideoGridProps) {
  const { videos, error, loading, hasMore, loadMore, reload } = result;
  return (
    <>
      {videos.length > 0 && (
        <ul className="demo-grid">
          {videos.map((video) => (
            <li key={video.id}>
              <VideoCard video={video} />
            </li>
          ))}
        </ul>
      )}
      {error && (
        <div role="alert" className="demo-error">
          <p>Could not load videos: {error.message}</p>
          <button type="button" className="demo-button" onClick={reload}>
            Try again
          </button>
        </div>
      )}
      {loading && (
        <p role="status" className="demo-muted">
          Loading…
        </p>
      )}
      {!loading && !error && videos.length === 0 && <div className="demo-empty">{empty}</div>}
      {hasMore && !loading && (
        <button type="button" className="demo-button demo-load-more" onClick={loadMore}>
          Load more
        </button>
      )}
    </>
  );
}

/** One video: thumbnail, title (the link), channel, views and age; `compact` beside a player. */
export function VideoCard({ video, compact = false }: { video: Video; compact?: boolean }) {
  const client = useReelkitClient();
  const poster = mediaUrl(client, video.posterUrl);
  const published = video.publishedAt ?? video.createdAt;
  return (
    <article className={compact ? "demo-card demo-side-card" : "demo-card"}>
      <div className="demo-thumb">
        {poster ? <img src={poster} alt="" loading="lazy" /> : <div className="demo-thumb-empty" />}
        {video.duration !== null && (
          <span className="demo-duration">
            <span className="demo-visually-hidden">Duration </span>
            {formatDuration(video.duration)}
          </span>
        )}
      </div>
      <div>
        {/* The link covers the whole card (see demo.css) but is named by the title alone. */}
        <Link to={`/watch/${video.id}`} className="demo-card-link">
          {video.title || "Untitled"}
        </Link>
        {video.channel && (
          <p className="demo-card-channel">
            <Link to={`/c/${video.channel.handle}`}>{video.channel.name}</Link>
          </p>
        )}
        <p className="demo-card-meta">
          {formatViews(video.viewCount)}
          <span aria-hidden="true"> · </span>
          <span className="demo-visually-hidden">, </span>
          <time dateTime={published} title={formatDate(published)}>
            {formatAge(published)}
          </time>
        </p>
      </div>
    </article>
  );
}
