import type { Video as ApiVideo, Rendition } from "@reelkit/sdk/contract";
import type { Video } from "../generated/prisma/client.js";

/** `/media/<key>`, absolute under `publicUrl` when one is configured. */
export function mediaUrl(key: string | null, publicUrl: string | null): string | null {
  return key ? `${publicUrl ?? ""}/media/${key}` : null;
}

/** READY, or PROCESSING with a master playlist whose renditions all have a first segment. */
export function isPlayable(v: Pick<Video, "status" | "masterKey">): boolean {
  return v.masterKey !== null && (v.status === "READY" || v.status === "PROCESSING");
}

/** A catalog row as the API contract's `Video` (storage keys become media URLs). */
export function toApiVideo(v: Video, publicUrl: string | null): ApiVideo {
  const renditions = (Array.isArray(v.renditions) ? v.renditions : []) as unknown as (Rendition & {
    playlistKey?: string;
  })[];
  return {
    id: v.id,
    title: v.title,
    description: v.description,
    filename: v.filename,
    status: v.status,
    progress: v.progress,
    failureReason: v.failureReason,
    duration: v.duration,
    width: v.width,
    height: v.height,
    renditions: renditions.map(({ playlistKey: _k, ...r }) => r),
    playable: isPlayable(v),
    playbackUrl: isPlayable(v) ? mediaUrl(v.masterKey, publicUrl) : null,
    posterUrl: mediaUrl(v.posterKey, publicUrl),
    storyboardUrl: mediaUrl(v.storyboardKey, publicUrl),
    storyboardVttUrl: mediaUrl(v.storyboardVttKey, publicUrl),
    createdAt: v.createdAt.toISOString(),
    updatedAt: v.updatedAt.toISOString(),
    publishedAt: v.publishedAt ? v.publishedAt.toISOString() : null,
    tags: v.tags,
    viewCount: Number(v.viewCount),
  };
}
