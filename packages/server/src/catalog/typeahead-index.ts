import type { Logger } from "@reelkit/core";
import { Prisma, type PrismaClient } from "../generated/prisma/client.js";
import { SEARCH_CANDIDATES } from "./catalog-query.js";
import { foldsLikeTheDatabase, type TypeaheadAnswer } from "./typeahead.js";
import type { VideoChanges } from "./video-changes.js";

/**
 * Code point order (UTF-8 byte order: the prefix index's `text_pattern_ops` and `COLLATE "C"`),
 * not JavaScript's UTF-16 code unit order, which puts U+E000–U+FFFF after astral characters.
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return (x >= 0xd800 && x <= 0xdfff ? x + 0x10000 : x) - (y >= 0xd800 && y <= 0xdfff ? y + 0x10000 : y);
  }
  return a.length - b.length;
}

/** One distinct title of the catalog's READY PUBLIC videos. */
export interface TypeaheadTitle {
  title: string;
  /** The database's `lower(title)`. */
  folded: string;
  /** The most views of a video with this title. */
  views: number;
  /** Videos with this title. */
  videos: number;
}

/**
 * Every distinct READY PUBLIC title in memory, in the prefix index's order, answering a prefix
 * the way suggestionsQuery does: the first SEARCH_CANDIDATES videos whose folded title starts
 * with it (taken title by title), ranked by views, then title in code point order.
 */
export class TypeaheadIndex {
  private readonly folded: string[];
  private readonly titles: string[];
  private readonly views: Float64Array;
  private readonly videos: Uint32Array;

  constructor(entries: TypeaheadTitle[]) {
    const sorted = [...entries].sort(
      (a, b) => compareCodePoints(a.folded, b.folded) || compareCodePoints(a.title, b.title),
    );
    this.folded = sorted.map((e) => e.folded);
    this.titles = sorted.map((e) => e.title);
    this.views = Float64Array.from(sorted, (e) => e.views);
    this.videos = Uint32Array.from(sorted, (e) => e.videos);
  }

  get size(): number {
    return this.titles.length;
  }

  /** The answer for `prefix` (trimmed), or null when it folds by the database's locale (see foldsLikeTheDatabase). */
  suggest(prefix: string, take: number): TypeaheadAnswer | null {
    if (!foldsLikeTheDatabase(prefix)) return null;
    const want = prefix.toLowerCase();
    let lo = 0;
    let hi = this.folded.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareCodePoints(this.folded[mid] as string, want) < 0) lo = mid + 1;
      else hi = mid;
    }
    const picked: number[] = [];
    let seen = 0;
    for (let i = lo; i < this.folded.length && seen < SEARCH_CANDIDATES; i++) {
      if (!(this.folded[i] as string).startsWith(want)) break;
      picked.push(i);
      seen += this.videos[i] as number;
    }
    picked.sort(
      (a, b) =>
        (this.views[b] as number) - (this.views[a] as number) ||
        compareCodePoints(this.titles[a] as string, this.titles[b] as string),
    );
    const complete = seen < SEARCH_CANDIDATES;
    const kept = complete ? picked : picked.slice(0, take);
    const titles = kept.map((i) => this.titles[i] as string);
    return complete ? { titles, folded: kept.map((i) => this.folded[i] as string) } : { titles };
  }
}

export interface TypeaheadMemoryOptions {
  /** Distinct titles kept at most; a catalog with more is answered by the database. */
  maxTitles: number;
  /** Least time between two loads, in ms (changes in between wait for the next one). */
  minReloadMs?: number;
  /** Longest an index is used without a reload, in ms (view counts move without a change). */
  maxAgeMs?: number;
  /** Once a catalog had too many titles: how long before trying again, in ms. */
  tooLargeRetryMs?: number;
  logger?: Logger;
}

/**
 * The typeahead index of this instance: loaded in the background, dropped by any change that
 * touches the public lists (a READY video changed or a video was deleted, on any instance) and
 * loaded again at most every `minReloadMs`. While it is being loaded or is out of date, `current`
 * gives null and the database answers (so no answer is ever older than the catalog).
 */
export class TypeaheadMemory {
  private index: TypeaheadIndex | null = null;
  private loadedAt = 0;
  private startedAt = Number.NEGATIVE_INFINITY;
  private changesSeen = 0;
  private loading: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private tooLargeUntil = 0;
  private closed = false;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly prisma: PrismaClient,
    changes: VideoChanges,
    private readonly options: TypeaheadMemoryOptions,
  ) {
    this.unsubscribe = changes.subscribe((change) => {
      if (change && change.status !== "READY" && change.status !== null) return;
      this.changesSeen++;
      this.index = null;
      this.schedule();
    });
  }

  /** The index when it is up to date, else null (and a load is scheduled). */
  current(): TypeaheadIndex | null {
    if (this.index && Date.now() - this.loadedAt <= (this.options.maxAgeMs ?? 300_000)) return this.index;
    this.index = null;
    this.schedule();
    return null;
  }

  /** Loads now (at start; the first suggestions then need no database). */
  start(): Promise<void> {
    return this.load();
  }

  close(): void {
    this.closed = true;
    this.index = null;
    this.unsubscribe();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(): void {
    if (this.closed || this.options.maxTitles <= 0 || this.loading || this.timer) return;
    const wait = Math.max(
      this.startedAt + (this.options.minReloadMs ?? 10_000) - Date.now(),
      this.tooLargeUntil - Date.now(),
      0,
    );
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.load();
    }, wait);
    this.timer.unref();
  }

  private load(): Promise<void> {
    if (this.options.maxTitles <= 0) return Promise.resolve();
    this.loading ??= (async () => {
      const seen = this.changesSeen;
      this.startedAt = Date.now();
      try {
        const rows = await this.prisma.$queryRaw<{ title: string; folded: string; views: bigint; videos: bigint }[]>(
          Prisma.sql`
            SELECT "title", lower("title") AS "folded", max("view_count") AS "views", count(*) AS "videos"
              FROM "video" WHERE "status" = 'READY' AND "visibility" = 'PUBLIC'
             GROUP BY "title"
             LIMIT ${this.options.maxTitles + 1}`,
        );
        if (rows.length > this.options.maxTitles) {
          this.tooLargeUntil = Date.now() + (this.options.tooLargeRetryMs ?? 3_600_000);
          this.options.logger?.info(
            { maxTitles: this.options.maxTitles },
            "typeahead: more titles than REELKIT_TYPEAHEAD_MAX_TITLES; the database answers",
          );
          return;
        }
        const index = new TypeaheadIndex(
          rows.map((r) => ({ title: r.title, folded: r.folded, views: Number(r.views), videos: Number(r.videos) })),
        );
        // A change while it loaded: out of date already, load again.
        if (seen !== this.changesSeen || this.closed) return;
        this.index = index;
        this.loadedAt = this.startedAt;
      } catch (err) {
        if (!this.closed)
          this.options.logger?.warn({ err }, "typeahead: loading the titles failed; the database answers");
      } finally {
        this.loading = null;
        if (this.index === null) this.schedule();
      }
    })();
    return this.loading;
  }
}
