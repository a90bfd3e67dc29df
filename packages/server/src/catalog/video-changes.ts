import { type ChangeFeed, InProcessChangeFeed } from "../db/change-feed.js";
import type { VideoStatus } from "../generated/prisma/enums.js";

/** One committed change of a video, as every instance hears it. */
export interface VideoChange {
  id: string;
  /** The status after the change; null when the video was deleted. */
  status: VideoStatus | null;
}

/** A change, or null when changes may have been missed (the feed reconnected): re-read everything. */
export type VideoChangeListener = (change: VideoChange | null) => void;

const STATUSES: ReadonlySet<string> = new Set<VideoStatus>(["UPLOADING", "QUEUED", "PROCESSING", "READY", "FAILED"]);
const DELETED = "DELETED";

/** `<id> <status>`: what travels on the feed (a NOTIFY payload). */
export function encodeChange(change: VideoChange): string {
  return `${change.id} ${change.status ?? DELETED}`;
}

/** The change a payload carries; null for one this version does not know (then: re-read everything). */
export function decodeChange(payload: string): VideoChange | null {
  const [id, status, ...rest] = payload.split(" ");
  if (!id || rest.length > 0) return null;
  if (status === DELETED) return { id, status: null };
  if (status === undefined || !STATUSES.has(status)) return null;
  return { id, status: status as VideoStatus };
}

/**
 * The one stream of video changes: every write to the catalog publishes here after it commits,
 * and everything that depends on a video's row — the caches, Server-Sent Events, the outbox
 * relay's wake-up — listens here. Over PostgreSQL LISTEN/NOTIFY (both runtime modes) every
 * instance on the database hears every change, whichever instance made it; in process only
 * when built without a feed (tests of one instance).
 */
export class VideoChanges {
  constructor(private readonly feed: ChangeFeed = new InProcessChangeFeed()) {}

  /**
   * Tells every instance. A failed announcement is not the writer's error (its change is
   * committed): other instances' caches expire within their TTL, and SSE clients reconnect.
   */
  async publish(change: VideoChange): Promise<void> {
    await this.feed.publish(encodeChange(change)).catch(() => {});
  }

  /** Calls `listener` for every change (this instance's included); returns the unsubscribe function. */
  subscribe(listener: VideoChangeListener): () => void {
    return this.feed.subscribe((payload) => listener(payload === null ? null : decodeChange(payload)));
  }

  close(): Promise<void> {
    return this.feed.close();
  }
}
