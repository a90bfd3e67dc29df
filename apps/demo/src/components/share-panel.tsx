import { useReelkitClient, type VideoPlayerHandle } from "@reelkit/react";
import type { EmbedLink } from "@reelkit/sdk";
import { type RefObject, useEffect, useId, useState } from "react";
import { formatDuration } from "../format.js";
import "./share-panel.css";

export interface SharePanelProps {
  videoId: string;
  /** The player, for "start at the current time". */
  player: RefObject<VideoPlayerHandle | null>;
}

/** The watch page's address with `?t=` when starting at a time. */
export function shareUrl(origin: string, videoId: string, startAt: number | null): string {
  const url = `${origin}/watch/${encodeURIComponent(videoId)}`;
  return startAt ? `${url}?t=${startAt}` : url;
}

/** The iframe snippet with `start=` added to the embed URL. */
export function embedCodeAt(link: EmbedLink, startAt: number | null): string {
  if (!startAt) return link.html;
  const url = new URL(link.url);
  url.searchParams.set("start", String(startAt));
  return link.html.replace(`src="${link.url.replaceAll("&", "&amp;")}"`, `src="${url.href.replaceAll("&", "&amp;")}"`);
}

/**
 * "Share": the watch link, the link at the current time (`?t=`) and the embed code (the iframe
 * of `/embed/:id`, from `GET /api/videos/:id/embed`, which signs it for a PRIVATE video's owner).
 */
export function SharePanel({ videoId, player }: SharePanelProps) {
  const client = useReelkitClient();
  const ids = useId();
  const [open, setOpen] = useState(false);
  const [atTime, setAtTime] = useState(false);
  const [time, setTime] = useState(0);
  const [link, setLink] = useState<EmbedLink | null>(null);
  const [copied, setCopied] = useState<string | null>(null);

  useEffect(() => {
    if (!open || link) return;
    const controller = new AbortController();
    client.embedLink(videoId, {}, { signal: controller.signal }).then(setLink, () => {});
    return () => controller.abort();
  }, [open, link, client, videoId]);

  const startAt = atTime ? Math.floor(time) || null : null;
  const url = shareUrl(window.location.origin, videoId, startAt);
  const embed = link ? embedCodeAt(link, startAt) : "";

  const copy = async (what: string, text: string) => {
    try {
      await navigator.clipboard.writeText(text);
      setCopied(what);
    } catch {
      // No clipboard (an insecure origin, a denied permission): the text stays selectable.
      setCopied(null);
    }
  };

  return (
    <details
      className="demo-share"
      onToggle={(e) => {
        const isOpen = e.currentTarget.open;
        setOpen(isOpen);
        if (isOpen) setTime(player.current?.currentTime ?? 0);
      }}
    >
      <summary>Share</summary>
      <div className="demo-share-body">
        <div className="demo-share-row">
          <label htmlFor={`${ids}-link`}>Link</label>
          <input id={`${ids}-link`} type="text" readOnly value={url} onFocus={(e) => e.currentTarget.select()} />
          <button type="button" onClick={() => copy("link", url)}>
            Copy link
          </button>
        </div>
        <label className="demo-share-row">
          <input
            type="checkbox"
            checked={atTime}
            onChange={(e) => {
              setTime(player.current?.currentTime ?? 0);
              setAtTime(e.currentTarget.checked);
            }}
          />
          Start at {formatDuration(time)}
        </label>
        <label htmlFor={`${ids}-embed`}>Embed</label>
        <textarea
          id={`${ids}-embed`}
          readOnly
          rows={3}
          value={link ? embed : "Loading…"}
          onFocus={(e) => e.currentTarget.select()}
        />
        <div className="demo-share-row">
          <button type="button" disabled={!link} onClick={() => copy("embed", embed)}>
            Copy embed code
          </button>
          {link?.expiresAt && (
            <span className="demo-muted">
              This private video's embed works until {new Date(link.expiresAt).toLocaleDateString()}.
            </span>
          )}
        </div>
        <p role="status" className="demo-muted">
          {copied === "link" ? "Link copied." : copied === "embed" ? "Embed code copied." : ""}
        </p>
      </div>
    </details>
  );
}
