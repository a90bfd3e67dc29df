import type { Config } from "@reelkit/core";
import type { Video as ApiVideo, Rendition } from "@reelkit/sdk/contract";
import type { Video } from "../generated/prisma/client.js";
import { type MediaSigner, SIGNED_PREFIX } from "../media/media-signing.js";

/**
 * Where media URLs point: the bucket or its CDN (`S3_PUBLIC_BASE_URL`) when objects are public
 * there, else this server's `/media` route, absolute under `publicUrl` when one is configured.
 */
export function mediaBaseUrl(config: Pick<Config, "publicUrl" | "storage">): string {
  if (config.storage.kind === "s3" && config.storage.publicBaseUrl) return config.storage.publicBaseUrl;
  return `${config.publicUrl ?? ""}/media`;
}

/** `<mediaBase>/<key>`. */
export function mediaUrl(key: string | null, mediaBase: string): string | null {
  return key ? `${mediaBase}/${key}` : null;
}

/** READY, or PROCESSING with a master playlist whose renditions all have a first segment. */
export function isPlayable(v: Pick<Video, "status" | "masterKey">): boolean {
  return v.masterKey !== null && (v.status === "READY" || v.status === "PROCESSING");
}

/**
 * A catalog row as the API contract's `Video` (storage keys become media URLs under `mediaBase`).
 * A PRIVATE video's files are only reachable through this server's `/media`, under an expiring
 * signed prefix (`privateBase` + `/s/<token>`), never from the bucket's public base URL.
 */
export function toApiVideo(
  v: Video,
  mediaBase: string,
  signed?: { signer: MediaSigner; privateBase: string },
): ApiVideo {
  const base =
    v.visibility === "PRIVATE" && signed
      ? `${signed.privateBase}/${SIGNED_PREFIX}/${signed.signer.token(v.id)}`
      : mediaBase;
  const media = (key: string | null) => mediaUrl(key, base);
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
    tags: v.tags,
    viewCount: Number(v.viewCount),
  };
}
