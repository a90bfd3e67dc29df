import type { ReelkitClient } from "@reelkit/sdk";

/** The API returns `/media/...` paths when the server has no public base URL; resolve them against the server. */
export function mediaUrl(client: ReelkitClient, url: string | null): string | undefined {
  if (!url) return undefined;
  return url.startsWith("/") ? client.url(url) : url;
}
