import type { Video as ApiVideo } from "@reelkit/sdk/contract";

/** The name oEmbed and OpenGraph give the provider. */
export const PROVIDER_NAME = "Reelkit";

/** Default width of an embed (oEmbed without maxwidth, the share dialog's snippet). */
const DEFAULT_WIDTH = 640;

const HTML_ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Text made safe for HTML content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] as string);
}

/** `<origin>/embed/<id>`, with the embed token of a PRIVATE video. */
export function embedUrl(origin: string, videoId: string, token?: string): string {
  const url = `${origin}/embed/${encodeURIComponent(videoId)}`;
  return token ? `${url}?token=${encodeURIComponent(token)}` : url;
}

/** `<origin>/watch/<id>`. */
export function watchUrl(origin: string, videoId: string): string {
  return `${origin}/watch/${encodeURIComponent(videoId)}`;
}

/** The video's width / height; 16/9 while its size is unknown. */
export function aspectOf(video: Pick<ApiVideo, "width" | "height">): number {
  return video.width && video.height ? video.width / video.height : 16 / 9;
}

/**
 * The embed's box: `DEFAULT_WIDTH` (or the video's own width when smaller), shrunk to fit
 * `maxWidth` and `maxHeight`, the video's aspect ratio kept.
 */
export function fitSize(options: {
  aspect: number;
  naturalWidth?: number | null;
  maxWidth?: number;
  maxHeight?: number;
}): {
  width: number;
  height: number;
} {
  const { aspect } = options;
  let width = Math.min(DEFAULT_WIDTH, options.naturalWidth || DEFAULT_WIDTH);
  if (options.maxWidth !== undefined) width = Math.min(width, options.maxWidth);
  if (options.maxHeight !== undefined) width = Math.min(width, options.maxHeight * aspect);
  width = Math.max(1, Math.floor(width));
  return { width, height: Math.max(1, Math.round(width / aspect)) };
}

/** The `<iframe>` snippet of an embed. */
export function iframeHtml(options: { src: string; width: number; height: number; title: string }): string {
  const { src, width, height, title } = options;
  return (
    `<iframe src="${escapeHtml(src)}" width="${width}" height="${height}" title="${escapeHtml(title)}" ` +
    `frameborder="0" allow="autoplay; fullscreen; picture-in-picture; encrypted-media" allowfullscreen></iframe>`
  );
}

/** Absolute form of a URL the API handed out (server-relative without `REELKIT_PUBLIC_URL`). */
export function absoluteUrl(url: string, origin: string): string {
  return new URL(url, `${origin}/`).href;
}

/**
 * OpenGraph and Twitter player tags for a watch page, so that a link unfurls into a player in
 * chat apps, plus the oEmbed discovery link. Only for PUBLIC and UNLISTED videos that are READY.
 */
export function unfurlTags(video: ApiVideo, origin: string): string | null {
  if (video.visibility === "PRIVATE" || video.status !== "READY") return null;
  const title = video.title || "Untitled";
  const embed = embedUrl(origin, video.id);
  const watch = watchUrl(origin, video.id);
  const { width, height } = fitSize({ aspect: aspectOf(video), naturalWidth: video.width });
  const poster = video.posterUrl ? absoluteUrl(video.posterUrl, origin) : null;
  const oembed = `${origin}/api/oembed?url=${encodeURIComponent(watch)}&format=json`;
  const meta = (key: "property" | "name", name: string, content: string) =>
    `<meta ${key}="${name}" content="${escapeHtml(content)}" />`;
  const tags = [
    meta("property", "og:type", "video.other"),
    meta("property", "og:site_name", PROVIDER_NAME),
    meta("property", "og:title", title),
    meta("property", "og:description", video.description),
    meta("property", "og:url", watch),
    ...(poster ? [meta("property", "og:image", poster)] : []),
    meta("property", "og:video", embed),
    ...(embed.startsWith("https:") ? [meta("property", "og:video:secure_url", embed)] : []),
    meta("property", "og:video:type", "text/html"),
    meta("property", "og:video:width", String(width)),
    meta("property", "og:video:height", String(height)),
    meta("name", "twitter:card", "player"),
    meta("name", "twitter:title", title),
    meta("name", "twitter:description", video.description),
    ...(poster ? [meta("name", "twitter:image", poster)] : []),
    meta("name", "twitter:player", embed),
    meta("name", "twitter:player:width", String(width)),
    meta("name", "twitter:player:height", String(height)),
    `<link rel="alternate" type="application/json+oembed" href="${escapeHtml(oembed)}" title="${escapeHtml(title)}" />`,
  ];
  return tags.join("\n    ");
}
