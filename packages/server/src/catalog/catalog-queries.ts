import { queuePositions } from "@reelkit/core";
import type { Prisma, Video } from "../generated/prisma/client.js";
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
  relatedQuery,
  type SearchSort,
  searchQuery,
  suggestionsQuery,
} from "./catalog-query.js";
import type { TypeaheadAnswer } from "./typeahead.js";
import type { TypeaheadMemory } from "./typeahead-index.js";
import type { Page, VideoRepository } from "./video-repository.js";
import type { ViewCounter } from "./view-counter.js";

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

/** Titles loaded per typeahead prefix: the most the suggestions route hands out. */
const SUGGESTIONS_CACHED = 20;

/** A row of suggestionsQuery. */
interface SuggestionRow {
  title: string;
  folded: string;
  complete: boolean;
}

/** Reads of the catalog — list, search, suggestions, one video, an owner's videos — and view counts. */
export class CatalogQueries {
  /** Each typeahead answer's titles cut to each limit asked, while the answer lives. */
  private readonly slices = new WeakMap<TypeaheadAnswer, Map<number, readonly string[]>>();

  constructor(
    private readonly videos: VideoRepository,
    private readonly views: ViewCounter,
    /** Every title in memory, when the catalog keeps one (typeahead-index.ts). */
    readonly typeahead: TypeaheadMemory | null = null,
  ) {}

  /** One video by id (any status), through the cache. */
  get(id: string): Promise<Video | null> {
    return this.videos.get(id);
  }

  /**
   * Where each video waiting for a transcoder stands (1: next), in the order transcoders take
   * playable phases (fair-schedule.ts, `shares` per owner): QUEUED videos wait; PROCESSING ones
   * without a master playlist run their playable phase, which counts against their owner's
   * turn. Read from the catalog, so it is the same on the job queue and on Kafka. A video's
   * place in line is its time of queueing (its last change while QUEUED).
   */
  async queuePositions(shares?: Readonly<Record<string, number>>): Promise<Map<string, number>> {
    const rows = await this.videos.prisma.video.findMany({
      where: { status: { in: ["QUEUED", "PROCESSING"] } },
      select: { id: true, ownerId: true, status: true, masterKey: true, updatedAt: true },
      orderBy: [{ updatedAt: "asc" }, { id: "asc" }],
    });
    const topic = "video.uploaded";
    return queuePositions({
      waiting: rows
        .filter((v) => v.status === "QUEUED")
        .map((v, seq) => ({ id: v.id, topic, owner: v.ownerId ?? "", seq })),
      running: rows
        .filter((v) => v.status === "PROCESSING" && v.masterKey === null)
        .map((v) => ({ topic, owner: v.ownerId ?? "" })),
      policy: { phases: [topic], shares },
    });
  }

  /** A video's visibility and whether it is READY (null: no such video), for media delivery. */
  async mediaStateOf(id: string): Promise<{ visibility: Visibility; ready: boolean } | null> {
    if (!isUuid(id)) return null;
    // Through the cache, which every change invalidates.
    const video = await this.videos.get(id);
    return video ? { visibility: video.visibility, ready: video.status === "READY" } : null;
  }

  /** Every video of one owner, any status, newest first, keyset-paginated on createdAt then id. */
  async listMine(ownerId: string, options: { limit: number; cursor?: string }): Promise<Page> {
    const where: Prisma.VideoWhereInput = { ownerId };
    if (options.cursor) {
      const c = decodeCursor(options.cursor, "m", "newest");
      const at = new Date(c.k);
      where.OR = [{ createdAt: { lt: at } }, { createdAt: at, id: { lt: c.i } }];
    }
    const rows = await this.videos.prisma.video.findMany({
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

  /**
   * READY videos in `sort` order (newest first by default), keyset-paginated over the
   * matching (status, key, id) index: every page costs what the first one does.
   */
  list(options: ListOptions): Promise<Page> {
    return this.videos.page({ m: "l", ...options }, () => this.loadList(options));
  }

  private async loadList(options: ListOptions): Promise<Page> {
    const sort = options.sort ?? "newest";
    const after = options.cursor ? decodeCursor(options.cursor, "l", sort) : null;
    const rows = await this.videos.prisma.$queryRaw<Video[]>(
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
  search(options: SearchOptions): Promise<Page> {
    return this.videos.page({ m: "s", ...options }, () => this.loadSearch(options));
  }

  private async loadSearch(options: SearchOptions): Promise<Page> {
    const sort = options.sort ?? "relevance";
    const after: Cursor | null = options.cursor ? decodeCursor(options.cursor, "s", sort) : null;
    const q = options.q.trim();
    if (!q) return { items: [], nextCursor: null };
    const rows = await this.videos.prisma.$queryRaw<(Video & { sortKey: number })[]>(
      searchQuery({ q, sort, filters: options, after, take: options.limit + 1 }),
    );
    const items = rows.slice(0, options.limit).map(({ sortKey: _k, ...v }) => v as Video);
    const last = rows[options.limit - 1];
    const nextCursor =
      rows.length > options.limit && last ? encodeCursor({ m: "s", s: sort, k: last.sortKey, i: last.id }) : null;
    return { items, nextCursor };
  }

  /**
   * Up to `limit` READY PUBLIC videos related to `video` by shared tags and title words (see
   * relatedQuery), cached like a public page.
   */
  async related(video: Pick<Video, "id" | "title" | "tags">, limit: number): Promise<Video[]> {
    const page = await this.videos.page({ m: "r", id: video.id, limit }, async () => {
      const items = await this.videos.prisma.$queryRaw<Video[]>(
        relatedQuery({ id: video.id, title: video.title, tags: video.tags, take: limit }),
      );
      return { items, nextCursor: null };
    });
    return page.items;
  }

  /**
   * Up to `limit` distinct READY PUBLIC titles starting with `prefix` (search-box typeahead),
   * through the cache: each prefix is loaded once at the largest limit the API allows, so every
   * limit asked for shares that answer.
   */
  async suggest(prefix: string, limit: number): Promise<readonly string[]> {
    const p = prefix.trim();
    if (!p || limit < 1) return [];
    const take = Math.max(limit, SUGGESTIONS_CACHED);
    const load = async (): Promise<TypeaheadAnswer> => {
      const fromMemory = this.typeahead?.current()?.suggest(p, take);
      if (fromMemory) return fromMemory;
      const rows = await this.videos.prisma.$queryRaw<SuggestionRow[]>(suggestionsQuery(p, take));
      const titles = rows.map((r) => r.title);
      // No rows: nothing matches, and nothing will match any longer prefix either.
      return rows.length === 0 || rows[0]?.complete ? { titles, folded: rows.map((r) => r.folded) } : { titles };
    };
    const answer = await (take === SUGGESTIONS_CACHED ? this.videos.suggestions(p, load) : load());
    // The same array for the same answer and limit, so the route renders each once.
    let slices = this.slices.get(answer);
    if (!slices) {
      slices = new Map();
      this.slices.set(answer, slices);
    }
    let titles = slices.get(limit);
    if (!titles) {
      titles = answer.titles.slice(0, limit);
      slices.set(limit, titles);
    }
    return titles;
  }

  /**
   * Counts a view of `id` for playback session `session` from the client at `address` (once per
   * session, a few per address and hour: see ViewCounter); written by flushViews.
   */
  recordView(id: string, session: string, address: string): boolean {
    return this.views.record(id, session, address);
  }

  /** Writes the pending view counts in one statement. */
  async flushViews(): Promise<void> {
    const ids = await this.views.flush();
    // Counts change constantly: cached rows keep theirs until evicted, except here, in-process.
    for (const id of ids) this.videos.forget(id);
  }
}
