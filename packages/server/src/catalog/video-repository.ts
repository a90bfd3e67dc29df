import type { WebhookEventType } from "@reelkit/core";
import { Prisma, type PrismaClient, type Video } from "../generated/prisma/client.js";
import { isUuid, VIDEO_COLUMNS } from "./catalog-query.js";
import type { TypeaheadAnswer } from "./typeahead.js";
import type { VideoCache } from "./video-cache.js";
import type { VideoChange, VideoChanges } from "./video-changes.js";
import { recordVideoEvent } from "./video-events.js";

/** One page of a list or search, with the cursor of the next one. */
export interface Page {
  items: Video[];
  nextCursor: string | null;
}

/** The webhook event a conditional update records, when `when(before)` holds (always without it). */
export interface UpdateEvent {
  type: WebhookEventType;
  when?: (before: Video) => boolean;
}

/**
 * Whether a change may touch the public lists (pages, typeahead answers), which hold READY
 * videos only: a READY video changed, or a video was deleted. READY is final (see ACTIVE).
 */
function touchesLists(change: VideoChange): boolean {
  return change.status === "READY" || change.status === null;
}

/** Only these statuses may still change through transcoder events; READY/FAILED are final. */
export const ACTIVE = ["QUEUED", "PROCESSING"] as const;

/**
 * Prisma access to the `video` table, shared by the catalog's parts: the cached read by id, the
 * cached public pages, and conditional updates that return the row. Every write made through it
 * is published on the change stream once it has committed; the cache listens there, so a write
 * on any instance drops what every instance cached.
 */
export class VideoRepository {
  constructor(
    readonly prisma: PrismaClient,
    private readonly changes: VideoChanges,
    private readonly cache: VideoCache<Page> | null = null,
  ) {
    if (cache)
      changes.subscribe((change) => cache.invalidate(change?.id ?? null, change ? touchesLists(change) : true));
  }

  /** One video by id (any status), through the cache when there is one; raw SQL, the hottest read. */
  async get(id: string): Promise<Video | null> {
    if (!isUuid(id)) return null;
    const load = async () => {
      const rows = await this.prisma.$queryRaw<Video[]>(
        Prisma.sql`SELECT ${VIDEO_COLUMNS} FROM "video" v WHERE v."id" = ${id}::uuid`,
      );
      return rows[0] ?? null;
    };
    return this.cache ? this.cache.getOrLoad(id, load) : load();
  }

  /** Public pages are the same for every caller: the hottest of them come from the cache. */
  page(query: object, load: () => Promise<Page>): Promise<Page> {
    return this.cache ? this.cache.getOrLoadPage(JSON.stringify(query), load) : load();
  }

  /** Typeahead answers are the same for every caller too: cached per prefix like pages. */
  suggestions(key: string, load: () => Promise<TypeaheadAnswer>): Promise<TypeaheadAnswer> {
    return this.cache ? this.cache.getOrLoadSuggestions(key, load) : load();
  }

  /**
   * `data` on video `id` where `where` also holds (a status or attempt guard, so duplicate and
   * stale events are no-ops): the row after it, published, or null when nothing matched. With
   * `event`, its outbox row is written in the same transaction as the update.
   */
  async updateWhere(
    id: string,
    where: Prisma.VideoWhereInput,
    data: Prisma.VideoUpdateManyMutationInput,
    event?: UpdateEvent,
  ): Promise<Video | null> {
    if (!isUuid(id)) return null;
    const video = event
      ? await this.prisma.$transaction(async (tx) => {
          const before = await tx.video.findUnique({ where: { id } });
          if (!before) return null;
          const { count } = await tx.video.updateMany({ where: { ...where, id }, data });
          if (count === 0) return null;
          const after = await tx.video.findUnique({ where: { id } });
          if (after && (event.when?.(before) ?? true)) await recordVideoEvent(tx, event.type, after);
          return after;
        })
      : await this.prisma.video
          .updateMany({ where: { ...where, id }, data })
          .then(({ count }) => (count === 0 ? null : this.prisma.video.findUnique({ where: { id } })));
    if (video) await this.changed(video);
    return video;
  }

  /**
   * Announces a committed change: drops the video from this instance's cache at once (its own
   * next read must not wait for the round trip) and tells every instance, this one included.
   */
  async changed(change: VideoChange): Promise<void> {
    this.cache?.invalidate(change.id, touchesLists(change));
    await this.changes.publish({ id: change.id, status: change.status });
  }

  /**
   * Drops a video from this instance's cache only (view counts, which change too often to
   * announce); pages and typeahead answers keep their counts until they expire.
   */
  forget(id: string): void {
    this.cache?.invalidate(id, false);
  }

  /** Resolves when the database answers a query (readiness). */
  async ping(): Promise<void> {
    await this.prisma.$queryRaw`SELECT 1`;
  }
}
