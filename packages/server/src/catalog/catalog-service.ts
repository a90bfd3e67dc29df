import { EventEmitter } from "node:events";
import type {
  TranscodeFailed,
  TranscodePlayable,
  TranscodeProgress,
  TranscodeReady,
  VideoUploaded,
} from "@reelkit/core";
import { type ChangeFeed, InProcessChangeFeed } from "../db/change-feed.js";
import { Prisma, type PrismaClient, type Video } from "../generated/prisma/client.js";
import type { Visibility } from "../generated/prisma/enums.js";
import {
  type CatalogFilters,
  type Cursor,
  decodeCursor,
  encodeCursor,
  isUuid,
  keyOf,
  type ListSort,
  listQuery,
  type SearchSort,
  searchQuery,
  suggestionsQuery,
  VIDEO_COLUMNS,
} from "./catalog-query.js";
import type { VideoCache } from "./video-cache.js";
import { ViewCounter } from "./view-counter.js";

export { InvalidCursorError, isUuid } from "./catalog-query.js";

export interface CreateForUploadInput {
  videoId: string;
  uploadId: string;
  title: string;
  description: string;
  filename: string | null;
  ownerId?: string | null;
  /** The upload token the upload was created with, if any. */
  uploadTokenId?: string | null;
}

/** Who created an upload: its owner, and the upload token used, if any. */
export interface UploadCreator {
  ownerId: string | null;
  uploadTokenId: string | null;
}

export interface FinishUploadInput {
  sourceKey: string;
  sourceSize: bigint | number;
}

export interface FinishUploadResult {
  video: Video;
  /** False when the video had already left UPLOADING (a repeated finish): nothing was queued. */
  queued: boolean;
}

export interface ListOptions extends CatalogFilters {
  limit: number;
  cursor?: string | null;
  sort?: ListSort;
}

export interface SearchOptions extends CatalogFilters {
  q: string;
  limit: number;
  cursor?: string | null;
  /** Default relevance. */
  sort?: SearchSort;
}

export interface Page {
  items: Video[];
  nextCursor: string | null;
}

export interface UpdateInput {
  title?: string;
  description?: string;
  visibility?: Visibility;
  tags?: string[];
}

export type CatalogChangeListener = (video: Video) => void;

export interface CatalogServiceOptions {
  /** Caches hot video reads and public pages; invalidated through `changes`. None when absent. */
  cache?: VideoCache<Page>;
  /** Changes every instance hears (PostgreSQL LISTEN/NOTIFY); in-process when absent. */
  changes?: ChangeFeed;
  /** Playback-session view counting; one with default limits when absent. */
  views?: ViewCounter;
}

/** Only these statuses may still change through transcoder events; READY/FAILED are final. */
const ACTIVE = ["QUEUED", "PROCESSING"] as const;

/**
 * The video catalog: the only code that writes the `video` and `outbox` tables. Status changes
 * are conditional updates so duplicate or stale (older attempt) events are no-ops.
 */
export class CatalogService {
  private readonly events = new EventEmitter();
  private readonly cache: VideoCache<Page> | null;
  private readonly changes: ChangeFeed;
  private readonly views: ViewCounter;

  constructor(
    private readonly prisma: PrismaClient,
    options: CatalogServiceOptions = {},
  ) {
    this.events.setMaxListeners(0);
    this.cache = options.cache ?? null;
    this.changes = options.changes ?? new InProcessChangeFeed();
    this.views = options.views ?? new ViewCounter(prisma);
    const cache = this.cache;
    if (cache) this.changes.subscribe((id) => cache.invalidate(id));
  }

  /**
   * Drops `id` from this instance's cache at once and tells every other instance. A failed
   * announcement is not the writer's error: the other caches' TTL bounds the staleness.
   */
  private async changed(id: string): Promise<void> {
    this.cache?.invalidate(id);
    await this.changes.publish(id).catch(() => {});
  }

  /** Subscribes to every status/progress change; returns the unsubscribe function. */
  onChange(listener: CatalogChangeListener): () => void {
    this.events.on("change", listener);
    return () => {
      this.events.off("change", listener);
    };
  }

  private emit(video: Video): void {
    void this.changed(video.id);
    this.events.emit("change", video);
  }

  /** Creates the UPLOADING row for a new tus upload; repeating it returns the existing row. */
  async createForUpload(input: CreateForUploadInput): Promise<Video> {
    const video = await this.prisma.video.upsert({
      where: { id: input.videoId },
      create: {
        id: input.videoId,
        uploadId: input.uploadId,
        title: input.title,
        description: input.description,
        filename: input.filename,
        ownerId: input.ownerId ?? null,
        uploadTokenId: input.uploadTokenId ?? null,
      },
      update: {},
    });
    this.emit(video);
    return video;
  }

  /**
   * UPLOADING -> QUEUED with a new attempt and its `video.uploaded` outbox row, in one
   * transaction, so a finished upload always gets its event. Repeating it changes nothing.
   */
  async finishUpload(videoId: string, input: FinishUploadInput): Promise<FinishUploadResult | null> {
    if (!isUuid(videoId)) return null;
    const result = await this.prisma.$transaction(async (tx) => {
      const { count } = await tx.video.updateMany({
        where: { id: videoId, status: "UPLOADING" },
        data: {
          status: "QUEUED",
          attempt: { increment: 1 },
          progress: 0,
          sourceKey: input.sourceKey,
          sourceSize: BigInt(input.sourceSize),
          failureReason: null,
        },
      });
      const video = await tx.video.findUnique({ where: { id: videoId } });
      if (!video) return null;
      if (count === 0) return { video, queued: false };
      const payload: VideoUploaded = { videoId, attempt: video.attempt, sourceKey: input.sourceKey };
      await tx.outbox.create({ data: { topic: "video.uploaded", key: videoId, payload: { ...payload } } });
      return { video, queued: true };
    });
    if (result?.queued) this.emit(result.video);
    return result;
  }

  /**
   * Queues an active video again (a new attempt, so events of the old one are ignored) with its
   * `video.uploaded` outbox row, in one transaction; only when it is still at `attempt` and
   * QUEUED/PROCESSING. Returns the queued row or null.
   */
  async requeue(videoId: string, attempt: number): Promise<Video | null> {
    if (!isUuid(videoId)) return null;
    const video = await this.prisma.$transaction(async (tx) => {
      const { count } = await tx.video.updateMany({
        where: { id: videoId, attempt, status: { in: [...ACTIVE] }, sourceKey: { not: null } },
        data: { status: "QUEUED", attempt: { increment: 1 }, progress: 0 },
      });
      if (count === 0) return null;
      const row = await tx.video.findUnique({ where: { id: videoId } });
      if (!row?.sourceKey) return null;
      const payload: VideoUploaded = { videoId, attempt: row.attempt, sourceKey: row.sourceKey };
      await tx.outbox.create({ data: { topic: "video.uploaded", key: videoId, payload: { ...payload } } });
      return row;
    });
    if (video) this.emit(video);
    return video;
  }

  /** QUEUED/PROCESSING videos last changed before `before`, oldest first. */
  listActive(before: Date, limit = 500): Promise<{ id: string; attempt: number; status: string }[]> {
    return this.prisma.video.findMany({
      where: { status: { in: [...ACTIVE] }, updatedAt: { lt: before } },
      select: { id: true, attempt: true, status: true },
      orderBy: { updatedAt: "asc" },
      take: limit,
    });
  }

  /** Resolves when the database answers a query (readiness). */
  async ping(): Promise<void> {
    await this.prisma.$queryRaw`SELECT 1`;
  }

  /** Videos still waiting for their upload to finish (id, tus upload id, creation time), oldest first. */
  listUploading(): Promise<{ id: string; uploadId: string | null; createdAt: Date }[]> {
    return this.prisma.video.findMany({
      where: { status: "UPLOADING" },
      select: { id: true, uploadId: true, createdAt: true },
      orderBy: { createdAt: "asc" },
    });
  }

  /** UPLOADING -> FAILED with a reason (an upload that can no longer finish); null when not UPLOADING. */
  async failUpload(videoId: string, reason: string): Promise<Video | null> {
    if (!isUuid(videoId)) return null;
    const { count } = await this.prisma.video.updateMany({
      where: { id: videoId, status: "UPLOADING" },
      data: { status: "FAILED", failureReason: reason },
    });
    return this.afterTransition(videoId, count);
  }

  /** Removes the video of an upload its client cancelled; a video past UPLOADING is kept. */
  async cancelUpload(videoId: string): Promise<boolean> {
    if (!isUuid(videoId)) return false;
    const { count } = await this.prisma.video.deleteMany({ where: { id: videoId, status: "UPLOADING" } });
    if (count > 0) await this.changed(videoId);
    return count > 0;
  }

  /** Owner and upload token of the video created for a tus upload; null when there is none. */
  async uploadCreator(uploadId: string): Promise<UploadCreator | null> {
    return this.prisma.video.findUnique({
      where: { uploadId },
      select: { ownerId: true, uploadTokenId: true },
    });
  }

  /** A video's visibility (null: no such video), for media delivery. */
  async visibilityOf(id: string): Promise<Visibility | null> {
    if (!isUuid(id)) return null;
    // Through the cache: every media request asks, and every change invalidates it.
    return (await this.get(id))?.visibility ?? null;
  }

  /** How many uploads of this owner have not finished yet (the per-user cap). */
  countUploading(ownerId: string): Promise<number> {
    return this.prisma.video.count({ where: { ownerId, status: "UPLOADING" } });
  }

  /** Every video of one owner, any status, newest first, keyset-paginated on createdAt then id. */
  async listMine(ownerId: string, options: { limit: number; cursor?: string }): Promise<Page> {
    const where: Prisma.VideoWhereInput = { ownerId };
    if (options.cursor) {
      const c = decodeCursor(options.cursor, "m", "newest");
      const at = new Date(c.k);
      where.OR = [{ createdAt: { lt: at } }, { createdAt: at, id: { lt: c.i } }];
    }
    const rows = await this.prisma.video.findMany({
      where,
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
      take: options.limit + 1,
    });
    const items = rows.slice(0, options.limit);
    const last = items.at(-1);
    const nextCursor =
      rows.length > options.limit && last
        ? encodeCursor({ m: "m", s: "newest", k: last.createdAt.getTime(), i: last.id })
        : null;
    return { items, nextCursor };
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

  /** Counts a view of `id` for playback session `session` (once per session); written by flushViews. */
  recordView(id: string, session: string): boolean {
    return this.views.record(id, session);
  }

  /** Writes the pending view counts in one statement. */
  async flushViews(): Promise<void> {
    const ids = await this.views.flush();
    // Counts change constantly: cached rows keep theirs until evicted, except here, in-process.
    for (const id of ids) this.cache?.invalidate(id);
  }

  /**
   * READY videos in `sort` order (newest first by default), keyset-paginated over the
   * matching (status, key, id) index: every page costs what the first one does.
   */
  async list(options: ListOptions): Promise<Page> {
    return this.cachedPage({ m: "l", ...options }, () => this.loadList(options));
  }

  private async loadList(options: ListOptions): Promise<Page> {
    const sort = options.sort ?? "newest";
    const after = options.cursor ? decodeCursor(options.cursor, "l", sort) : null;
    const rows = await this.prisma.$queryRaw<Video[]>(
      listQuery({ sort, filters: options, after, take: options.limit + 1 }),
    );
    const items = rows.slice(0, options.limit);
    const last = items.at(-1);
    const nextCursor =
      rows.length > options.limit && last ? encodeCursor({ m: "l", s: sort, k: keyOf(sort, last), i: last.id }) : null;
    return { items, nextCursor };
  }

  /**
   * Full-text search over the weighted title + description vector, plus trigram word
   * similarity on titles so a misspelt word still finds its video; READY only. Candidates come
   * from the indexes and only they are ranked (see searchQuery).
   */
  async search(options: SearchOptions): Promise<Page> {
    return this.cachedPage({ m: "s", ...options }, () => this.loadSearch(options));
  }

  /** Public pages are the same for every caller: the hottest of them come from the cache. */
  private cachedPage(query: object, load: () => Promise<Page>): Promise<Page> {
    return this.cache ? this.cache.getOrLoadPage(JSON.stringify(query), load) : load();
  }

  private async loadSearch(options: SearchOptions): Promise<Page> {
    const sort = options.sort ?? "relevance";
    const after: Cursor | null = options.cursor ? decodeCursor(options.cursor, "s", sort) : null;
    const q = options.q.trim();
    if (!q) return { items: [], nextCursor: null };
    const rows = await this.prisma.$queryRaw<(Video & { sortKey: number })[]>(
      searchQuery({ q, sort, filters: options, after, take: options.limit + 1 }),
    );
    const items = rows.slice(0, options.limit).map(({ sortKey: _k, ...v }) => v as Video);
    const last = rows[options.limit - 1];
    const nextCursor =
      rows.length > options.limit && last ? encodeCursor({ m: "s", s: sort, k: last.sortKey, i: last.id }) : null;
    return { items, nextCursor };
  }

  /** Up to `limit` distinct READY titles starting with `prefix` (search-box typeahead). */
  async suggest(prefix: string, limit: number): Promise<string[]> {
    const p = prefix.trim();
    if (!p) return [];
    const rows = await this.prisma.$queryRaw<{ title: string }[]>(suggestionsQuery(p, limit));
    return rows.map((r) => r.title);
  }

  async update(id: string, input: UpdateInput): Promise<Video | null> {
    if (!isUuid(id)) return null;
    const data: Prisma.VideoUpdateInput = {};
    if (input.title !== undefined) data.title = input.title;
    if (input.description !== undefined) data.description = input.description;
    if (input.visibility !== undefined) data.visibility = input.visibility;
    if (input.tags !== undefined) data.tags = normalizeTags(input.tags);
    try {
      const video = await this.prisma.video.update({ where: { id }, data });
      await this.changed(id);
      return video;
    } catch (err) {
      if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === "P2025") return null;
      throw err;
    }
  }

  /** Deletes the row; returns what was deleted (the caller removes its media) or null. */
  async delete(id: string): Promise<Video | null> {
    if (!isUuid(id)) return null;
    try {
      const video = await this.prisma.video.delete({ where: { id } });
      await this.changed(id);
      return video;
    } catch (err) {
      if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === "P2025") return null;
      throw err;
    }
  }

  /** QUEUED/PROCESSING -> PROCESSING with the new percent; stale attempts and regressions are ignored. */
  async applyProgress(event: TranscodeProgress): Promise<Video | null> {
    if (!isUuid(event.videoId)) return null;
    const percent = Math.max(0, Math.min(100, event.percent));
    const { count } = await this.prisma.video.updateMany({
      where: { id: event.videoId, attempt: event.attempt, status: { in: [...ACTIVE] }, progress: { lte: percent } },
      data: { status: "PROCESSING", progress: percent },
    });
    return this.afterTransition(event.videoId, count);
  }

  /**
   * QUEUED/PROCESSING -> PROCESSING with the master playlist and (nominal) renditions: the video
   * plays while it is still encoded. A set `masterKey` before READY is what "playable" means.
   */
  async applyPlayable(event: TranscodePlayable): Promise<Video | null> {
    if (!isUuid(event.videoId)) return null;
    const { count } = await this.prisma.video.updateMany({
      where: { id: event.videoId, attempt: event.attempt, status: { in: [...ACTIVE] } },
      data: {
        status: "PROCESSING",
        duration: event.durationSec,
        width: event.width,
        height: event.height,
        frameRate: event.frameRate,
        renditions: event.renditions.map((r) => ({ ...r })),
        masterKey: event.masterKey,
      },
    });
    return this.afterTransition(event.videoId, count);
  }

  async applyReady(event: TranscodeReady): Promise<Video | null> {
    if (!isUuid(event.videoId)) return null;
    const { count } = await this.prisma.video.updateMany({
      where: { id: event.videoId, attempt: event.attempt, status: { in: [...ACTIVE] } },
      data: {
        status: "READY",
        progress: 100,
        failureReason: null,
        duration: event.durationSec,
        width: event.width,
        height: event.height,
        frameRate: event.frameRate,
        renditions: event.renditions.map((r) => ({ ...r })),
        masterKey: event.masterKey,
        posterKey: event.posterKey,
        storyboardKey: event.storyboardKey,
        storyboardVttKey: event.storyboardVttKey,
        publishedAt: new Date(),
      },
    });
    return this.afterTransition(event.videoId, count);
  }

  async applyFailed(event: TranscodeFailed): Promise<Video | null> {
    if (!isUuid(event.videoId)) return null;
    const { count } = await this.prisma.video.updateMany({
      where: { id: event.videoId, attempt: event.attempt, status: { in: [...ACTIVE] } },
      data: { status: "FAILED", failureReason: event.reason },
    });
    return this.afterTransition(event.videoId, count);
  }

  /** Returns the changed row and notifies listeners, or null when the event was ignored. */
  private async afterTransition(id: string, count: number): Promise<Video | null> {
    if (count === 0) return null;
    const video = await this.prisma.video.findUnique({ where: { id } });
    if (video) this.emit(video);
    return video;
  }
}

/** Tags as stored: trimmed, lower-case, without duplicates or empties, in the given order. */
export function normalizeTags(tags: string[]): string[] {
  return [...new Set(tags.map((t) => t.trim().toLowerCase()).filter(Boolean))];
}
