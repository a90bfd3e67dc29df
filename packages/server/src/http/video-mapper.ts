import type { Config, Rendition as StoredRendition } from "@reelkit/core";
import type {
  Channel as ApiChannel,
  ChannelRef as ApiChannelRef,
  Rendition as ApiRendition,
  Video as ApiVideo,
} from "@reelkit/sdk/contract";
import type { ChannelRow } from "../channels/channel-directory.js";
import type { Video } from "../generated/prisma/client.js";
import { storedCaptions, TRACK_FILE } from "../media/caption-service.js";
import { chaptersVersion, storedChapters } from "../media/chapters.js";
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

/**
 * The API's rendition is the event's (`@reelkit/core`) without its storage key. The two schemas
 * live apart because the SDK (browser) and core (server) share no package; this type holds them
 * together: it fails to compile when one gains, loses or retypes a field the other does not.
 */
type SameShape<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const renditionShapesAgree: SameShape<Omit<StoredRendition, "playlistKey">, ApiRendition> = true;
void renditionShapesAgree;

export function toApiRendition({ playlistKey: _key, ...rendition }: StoredRendition): ApiRendition {
  return rendition;
}

/** The transcode phase a video is in (see the contract's `TranscodePhase`). */
export function transcodePhase(v: Pick<Video, "status" | "masterKey">): ApiVideo["phase"] {
  if (v.status === "QUEUED") return "queued";
  if (v.status === "PROCESSING") return v.masterKey === null ? "playable" : "ladder";
  if (v.status === "READY") return "complete";
  return null;
}

/** Its place in the transcode queue while QUEUED (from `queue`), else null. */
export function queuePosition(v: Pick<Video, "id" | "status">, queue?: ReadonlyMap<string, number>): number | null {
  return v.status === "QUEUED" ? (queue?.get(v.id) ?? null) : null;
}

/** READY, or PROCESSING with a master playlist whose renditions all have a first segment. */
export function isPlayable(v: Pick<Video, "status" | "masterKey">): boolean {
  return v.masterKey !== null && (v.status === "READY" || v.status === "PROCESSING");
}

/** A user as the channel a video names (avatars are public: under the public media base). */
export function toChannelRef(c: ChannelRow, mediaBase: string): ApiChannelRef {
  return { handle: c.handle, name: c.name, avatarUrl: mediaUrl(c.avatarKey, mediaBase) };
}

/** A user as the API contract's `Channel`. */
export function toApiChannel(c: ChannelRow, mediaBase: string): ApiChannel {
  return { id: c.id, ...toChannelRef(c, mediaBase), description: c.description, createdAt: c.createdAt.toISOString() };
}

export interface VideoMapping {
  /** Signs the media URLs of a PRIVATE video (see toApiVideo); unsigned URLs when absent. */
  signed?: { signer: MediaSigner; privateBase: string };
  /**
   * The owners' channels by user id: the video's `channel` is its owner's, null when it has
   * none; left out when no map is given.
   */
  channels?: ReadonlyMap<string, ChannelRow>;
  /** Places in the transcode queue by video id (CatalogQueries.queuePositions); null when absent. */
  queue?: ReadonlyMap<string, number>;
}

/**
 * A catalog row as the API contract's `Video` (storage keys become media URLs under `mediaBase`).
 * A PRIVATE video's files are only reachable through this server's `/media`, under an expiring
 * signed prefix (`privateBase` + `/s/<token>`), never from the bucket's public base URL.
 */
export function toApiVideo(v: Video, mediaBase: string, mapping: VideoMapping = {}): ApiVideo {
  const { signed, channels, queue } = mapping;
  const privateBase =
    v.visibility === "PRIVATE" && signed ? `${signed.privateBase}/${SIGNED_PREFIX}/${signed.signer.token(v.id)}` : null;
  const base = privateBase ?? mediaBase;
  const media = (key: string | null) => mediaUrl(key, base);
  // What this server composes (the master with its SUBTITLES group, the chapters track) is only
  // served by its own /media route, never straight from a bucket.
  const serverBase = privateBase ?? signed?.privateBase ?? mediaBase;
  const captions = storedCaptions(v);
  const chapters = storedChapters(v);
  const masterBase = captions.length > 0 ? serverBase : base;
  // The column holds the renditions of the transcoder's events as they came.
  const renditions = (Array.isArray(v.renditions) ? v.renditions : []) as unknown as StoredRendition[];
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
    renditions: renditions.map(toApiRendition),
    playable: isPlayable(v),
    phase: transcodePhase(v),
    queuePosition: queuePosition(v, queue),
    playbackUrl: isPlayable(v) ? mediaUrl(v.masterKey, masterBase) : null,
    posterUrl: media(v.posterKey),
    posterTime: v.posterTime,
    // Made on request by this server's /media route, never read straight from a bucket.
    thumbnailUrl: v.status === "READY" ? `${serverBase}/videos/${v.id}/thumbnail.jpg` : null,
    storyboardUrl: media(v.storyboardKey),
    storyboardVttUrl: media(v.storyboardVttKey),
    createdAt: v.createdAt.toISOString(),
    updatedAt: v.updatedAt.toISOString(),
    publishedAt: v.publishedAt ? v.publishedAt.toISOString() : null,
    tags: v.tags,
    viewCount: Number(v.viewCount),
    ...(channels && { channel: toOwnerRef(v.ownerId, channels, mediaBase) }),
    passthrough: v.passthrough,
    captions: captions.map((t) => ({
      language: t.language,
      label: t.label,
      kind: t.kind,
      default: t.isDefault,
      url: `${base}/videos/${v.id}/${t.dir}/${TRACK_FILE}`,
      cueCount: t.cueCount,
      createdAt: t.createdAt,
    })),
    chapters,
    chaptersVttUrl:
      chapters.length > 0 ? `${serverBase}/videos/${v.id}/chapters.vtt?v=${chaptersVersion(chapters)}` : null,
    downloads: v.downloads,
  };
}

function toOwnerRef(
  ownerId: string | null,
  channels: ReadonlyMap<string, ChannelRow>,
  mediaBase: string,
): ApiChannelRef | null {
  const owner = ownerId === null ? undefined : channels.get(ownerId);
  return owner ? toChannelRef(owner, mediaBase) : null;
}
