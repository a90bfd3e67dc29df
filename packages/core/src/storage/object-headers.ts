/** MIME types of what Reelkit stores and serves, by file extension. */
const MIME: Record<string, string> = {
  m3u8: "application/vnd.apple.mpegurl",
  m4s: "video/iso.segment",
  mp4: "video/mp4",
  m4a: "audio/mp4",
  ts: "video/mp2t",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  png: "image/png",
  webp: "image/webp",
  vtt: "text/vtt; charset=utf-8",
};

/** Segments, init segments and images never change under their key. */
export const CACHE_IMMUTABLE = "public, max-age=31536000, immutable";
/** Playlists are rewritten while a video is processed; keep caches short. */
export const CACHE_PLAYLIST = "public, max-age=2";
/** Sources, tus data and anything else that is never served publicly. */
export const CACHE_PRIVATE = "private, no-store";

export function contentTypeFor(key: string): string {
  const slash = key.lastIndexOf("/");
  const dot = key.lastIndexOf(".");
  if (dot <= slash) return "application/octet-stream";
  return MIME[key.slice(dot + 1).toLowerCase()] ?? "application/octet-stream";
}

/**
 * The Content-Type and Cache-Control an object carries, the same whether `/media` serves it or
 * a CDN reads it straight from the bucket.
 */
export function objectHeaders(key: string): { contentType: string; cacheControl: string } {
  const contentType = contentTypeFor(key);
  if (key.endsWith(".m3u8")) return { contentType, cacheControl: CACHE_PLAYLIST };
  if (contentType === "application/octet-stream") return { contentType, cacheControl: CACHE_PRIVATE };
  return { contentType, cacheControl: CACHE_IMMUTABLE };
}
