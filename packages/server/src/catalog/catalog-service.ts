import { EventEmitter } from "node:events";
import type {
  TranscodeFailed,
  TranscodePlayable,
  TranscodeProgress,
  TranscodeReady,
  VideoUploaded,
} from "@reelkit/core";
import { Prisma, type PrismaClient, type Video } from "../generated/prisma/client.js";
import type { Visibility } from "../generated/prisma/enums.js";

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(id: string): boolean {
  return UUID_RE.test(id);
}

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

export interface ListOptions {
  limit: number;
  cursor?: string | null;
  sort?: "newest" | "oldest";
}

export interface SearchOptions {
  q: string;
  limit: number;
  cursor?: string | null;
}

export interface Page {
  items: Video[];
  nextCursor: string | null;
}

export interface UpdateInput {
  title?: string;
  description?: string;
  visibility?: Visibility;
}

export type CatalogChangeListener = (video: Video) => void;

/** Thrown for a cursor that this service did not produce. */
export class InvalidCursorError extends Error {
  constructor() {
    super("invalid cursor");
    this.name = "InvalidCursorError";
  }
}

function encodeCursor(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

function decodeCursor<T>(cursor: string, check: (v: unknown) => v is T): T {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    throw new InvalidCursorError();
  }
  if (!check(value)) throw new InvalidCursorError();
  return value;
}

interface ListCursor {
  p: string;
  i: string;
}
const isListCursor = (v: unknown): v is ListCursor =>
  typeof v === "object" &&
  v !== null &&
  typeof (v as ListCursor).p === "string" &&
  !Number.isNaN(Date.parse((v as ListCursor).p)) &&
  typeof (v as ListCursor).i === "string" &&
  isUuid((v as ListCursor).i);

interface SearchCursor {
  o: number;
}
const isSearchCursor = (v: unknown): v is SearchCursor =>
  typeof v === "object" && v !== null && Number.isInteger((v as SearchCursor).o) && (v as SearchCursor).o >= 0;

/** Only these statuses may still change through transcoder events; READY/FAILED are final. */
const ACTIVE = ["QUEUED", "PROCESSING"] as const;

/** Minimum pg_trgm word similarity for a title to match a (possibly misspelt) query. */
const TRGM_THRESHOLD = 0.4;

/**
 * The video catalog: the only code that writes the `video` and `outbox` tables. Status changes
 * are conditional updates so duplicate or stale (older attempt) events are no-ops.
 */
export class CatalogService {
  private readonly events = new EventEmitter();

  constructor(private readonly prisma: PrismaClient) {
    this.events.setMaxListeners(0);
  }

  /** Subscribes to every status/progress change; returns the unsubscribe function. */
  onChange(listener: CatalogChangeListener): () => void {
    this.events.on("change", listener);
    return () => {
      this.events.off("change", listener);
    };
  }

  private emit(video: Video): void {
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
    const row = await this.prisma.video.findUnique({ where: { id }, select: { visibility: true } });
    return row?.visibility ?? null;
  }

  /** How many uploads of this owner have not finished yet (the per-user cap). */
  countUploading(ownerId: string): Promise<number> {
    return this.prisma.video.count({ where: { ownerId, status: "UPLOADING" } });
  }

  /** Every video of one owner, any status, newest first, keyset-paginated on createdAt then id. */
  async listMine(ownerId: string, options: Omit<ListOptions, "sort">): Promise<Page> {
    const where: Prisma.VideoWhereInput = { ownerId };
    if (options.cursor) {
      const c = decodeCursor(options.cursor, isListCursor);
      const at = new Date(c.p);
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
        ? encodeCursor({ p: last.createdAt.toISOString(), i: last.id } satisfies ListCursor)
        : null;
    return { items, nextCursor };
  }

  get(id: string): Promise<Video | null> {
    if (!isUuid(id)) return Promise.resolve(null);
    return this.prisma.video.findUnique({ where: { id } });
  }

  /** READY videos by publishedAt then id (newest first by default), keyset-paginated. */
  async list(options: ListOptions): Promise<Page> {
    const desc = (options.sort ?? "newest") === "newest";
    // Lists show PUBLIC videos only: UNLISTED plays by link, PRIVATE only for its owner.
    const where: Prisma.VideoWhereInput = { status: "READY", visibility: "PUBLIC" };
    if (options.cursor) {
      const c = decodeCursor(options.cursor, isListCursor);
      const at = new Date(c.p);
      where.OR = desc
        ? [{ publishedAt: { lt: at } }, { publishedAt: at, id: { lt: c.i } }]
        : [{ publishedAt: { gt: at } }, { publishedAt: at, id: { gt: c.i } }];
    }
    const dir = desc ? "desc" : "asc";
    const rows = await this.prisma.video.findMany({
      where,
      orderBy: [{ publishedAt: dir }, { id: dir }],
      take: options.limit + 1,
    });
    const items = rows.slice(0, options.limit);
    const last = items.at(-1);
    const nextCursor =
      rows.length > options.limit && last?.publishedAt
        ? encodeCursor({ p: last.publishedAt.toISOString(), i: last.id } satisfies ListCursor)
        : null;
    return { items, nextCursor };
  }

  /**
   * Full-text search over title + description (ranked with ts_rank) plus trigram word
   * similarity on the title, so a misspelt word still finds the video. READY only.
   */
  async search(options: SearchOptions): Promise<Page> {
    const q = options.q.trim();
    if (!q) return { items: [], nextCursor: null };
    const offset = options.cursor ? decodeCursor(options.cursor, isSearchCursor).o : 0;
    const rows = await this.prisma.$queryRaw<{ id: string }[]>(Prisma.sql`
      SELECT id::text AS id FROM (
        SELECT id,
               ts_rank(to_tsvector('simple', title || ' ' || description), websearch_to_tsquery('simple', ${q})) AS rank,
               to_tsvector('simple', title || ' ' || description) @@ websearch_to_tsquery('simple', ${q}) AS fts,
               word_similarity(lower(${q}), lower(title)) AS sim
          FROM video
         WHERE status = 'READY' AND visibility = 'PUBLIC'
      ) s
      WHERE fts OR sim >= ${TRGM_THRESHOLD}
      ORDER BY (CASE WHEN fts THEN 1 ELSE 0 END) + rank + sim DESC, id DESC
      OFFSET ${offset} LIMIT ${options.limit + 1}`);
    const ids = rows.slice(0, options.limit).map((r) => r.id);
    const videos = await this.prisma.video.findMany({ where: { id: { in: ids } } });
    const byId = new Map(videos.map((v) => [v.id, v]));
    const items = ids.map((id) => byId.get(id)).filter((v): v is Video => v !== undefined);
    const nextCursor = rows.length > options.limit ? encodeCursor({ o: offset + options.limit }) : null;
    return { items, nextCursor };
  }

  async update(id: string, input: UpdateInput): Promise<Video | null> {
    if (!isUuid(id)) return null;
    const data: Prisma.VideoUpdateInput = {};
    if (input.title !== undefined) data.title = input.title;
    if (input.description !== undefined) data.description = input.description;
    if (input.visibility !== undefined) data.visibility = input.visibility;
    try {
      return await this.prisma.video.update({ where: { id }, data });
    } catch (err) {
      if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === "P2025") return null;
      throw err;
    }
  }

  /** Deletes the row; returns what was deleted (the caller removes its media) or null. */
  async delete(id: string): Promise<Video | null> {
    if (!isUuid(id)) return null;
    try {
      return await this.prisma.video.delete({ where: { id } });
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
