import type { Video as ApiVideo, Rendition } from "@reelkit/sdk/contract";
import type { Video } from "../generated/prisma/client.js";
import { type MediaSigner, SIGNED_PREFIX } from "../media/media-signing.js";

/** `/media/<key>`, absolute under `publicUrl` when one is configured. */
export function mediaUrl(key: string | null, publicUrl: string | null): string | null {
  return key ? `${publicUrl ?? ""}/media/${key}` : null;
}

/** READY, or PROCESSING with a master playlist whose renditions all have a first segment. */
export function isPlayable(v: Pick<Video, "status" | "masterKey">): boolean {
  return v.masterKey !== null && (v.status === "READY" || v.status === "PROCESSING");
}

/** A catalog row as the API contract's `Video` (storage keys become media URLs). */
export function toApiVideo(v: Video, publicUrl: string | null, signer?: MediaSigner): ApiVideo {
  // A PRIVATE video's files are only reachable under an expiring signed prefix.
  const prefix = v.visibility === "PRIVATE" && signer ? `${SIGNED_PREFIX}/${signer.token(v.id)}/` : "";
  const media = (key: string | null) => (key ? mediaUrl(`${prefix}${key}`, publicUrl) : null);
  const renditions = (Array.isArray(v.renditions) ? v.renditions : []) as unknown as (Rendition & {
    playlistKey?: string;
  })[];
  return {
    id: v.id,
    title: v.title,
    description: v.description,
    filename: v.filename,
    ownerId: v.ownerId,
    visibility: v.visibility,
    status: v.status,
    progress: v.progress,
    failureReason: v.failureReason,
    duration: v.duration,
    width: v.width,
    height: v.height,
    renditions: renditions.map(({ playlistKey: _k, ...r }) => r),
    playable: isPlayable(v),
    playbackUrl: isPlayable(v) ? media(v.masterKey) : null,
    posterUrl: media(v.posterKey),
    storyboardUrl: media(v.storyboardKey),
    storyboardVttUrl: media(v.storyboardVttKey),
    createdAt: v.createdAt.toISOString(),
    updatedAt: v.updatedAt.toISOString(),
    publishedAt: v.publishedAt ? v.publishedAt.toISOString() : null,
  };
}
