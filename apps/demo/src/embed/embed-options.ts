import type { AutoPlay } from "@reelkit/react";
import { parseStartTime } from "../start-time.js";

/** What `/embed/:id?autoplay=1&muted=1&start=30&loop=1&controls=0&token=…` asks for. */
export interface EmbedOptions {
  videoId: string;
  autoPlay: AutoPlay;
  muted: boolean;
  loop: boolean;
  controls: boolean;
  /** Seconds. */
  startTime: number | undefined;
  /** The embed token of a PRIVATE video (from `GET /api/videos/:id/embed`). */
  token: string | null;
}

/** "1", "true", "" (a bare `?muted`) and "yes" are on; anything else, or absent, is off. */
function flag(params: URLSearchParams, name: string, fallback: boolean): boolean {
  const value = params.get(name);
  if (value === null) return fallback;
  return ["", "1", "true", "yes"].includes(value.toLowerCase());
}

/** The embed page's options from its URL; null when the path names no video. */
export function embedOptions(location: Pick<Location, "pathname" | "search">): EmbedOptions | null {
  const m = /^\/embed\/([^/]+)\/?$/.exec(location.pathname);
  if (!m) return null;
  const params = new URLSearchParams(location.search);
  const muted = flag(params, "muted", false);
  return {
    videoId: decodeURIComponent(m[1] as string),
    // Autoplay with sound is refused by most browsers in a frame: muted when asked, else "any"
    // (sound when allowed, muted when refused).
    autoPlay: flag(params, "autoplay", false) ? (muted ? "muted" : "any") : false,
    muted,
    loop: flag(params, "loop", false),
    controls: flag(params, "controls", true),
    startTime: parseStartTime(params.get("start") ?? params.get("t")),
    token: params.get("token"),
  };
}
