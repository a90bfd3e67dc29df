import { LRUCache } from "lru-cache";
import type { Video } from "../generated/prisma/client.js";
import { atMostEntries } from "../lru-bounds.js";
import { answerSize, foldsLikeTheDatabase, narrow, type TypeaheadAnswer } from "./typeahead.js";

export interface VideoCacheOptions {
  /** Videos kept (least recently used go first). */
  max?: number;
  /** Longest a video stays cached, in ms: a backstop should an invalidation be lost. */
  ttlMs?: number;
  /** List and search pages kept. */
  maxPages?: number;
  /** Longest a page stays cached, in ms (view counts move without an invalidation per view). */
  pageTtlMs?: number;
  /**
   * Titles the typeahead answers may hold in all (a complete answer keeps every match of its
   * prefix, up to SEARCH_CANDIDATES, and counts each title twice: see typeahead.ts).
   */
  maxSuggestionTitles?: number;
  /**
   * Longest a typeahead answer stays cached, in ms: longer than a page, since only the order of
   * its titles follows view counts; any change of a READY video drops them all the same.
   */
  suggestionTtlMs?: number;
}

/**
 * The in-process cache of hot reads — videos by id, the public list and search pages and the
 * typeahead answers (the same for every caller: PUBLIC videos only) — kept correct by
 * invalidation: every change to a video, made by this instance or another (see ChangeFeed),
 * drops it, and a change of a READY video (or a deletion) every page and answer too, as it may
 * move the video onto or off any of them. A read that overlapped an invalidation is not stored,
 * so a stale row read before the change cannot be cached after it.
 */
export class VideoCache<Page extends object = object> {
  private readonly lru: LRUCache<string, Video>;
  private readonly pages: LRUCache<string, Page>;
  private readonly suggestions: LRUCache<string, TypeaheadAnswer>;
  /** Typeahead loads under way: callers asking for the same prefix meanwhile share one query. */
  private readonly loadingSuggestions = new Map<string, Promise<TypeaheadAnswer>>();
  /** Bumped by every invalidation; a read stores its row only if this did not move meanwhile. */
  private generation = 0;
  /** Bumped by every invalidation of the lists; the same for pages and typeahead answers. */
  private listGeneration = 0;

  constructor(options: VideoCacheOptions = {}) {
    this.lru = new LRUCache({ ...atMostEntries(options.max ?? 10_000), ttl: options.ttlMs ?? 60_000 });
    this.pages = new LRUCache({ ...atMostEntries(options.maxPages ?? 1_000), ttl: options.pageTtlMs ?? 2_000 });
    this.suggestions = new LRUCache({
      maxSize: options.maxSuggestionTitles ?? 200_000,
      sizeCalculation: answerSize,
      ttl: options.suggestionTtlMs ?? 30_000,
    });
  }

  /** The cached video, or loads it (caching the result when no invalidation raced the load). */
  async getOrLoad(id: string, load: () => Promise<Video | null>): Promise<Video | null> {
    const hit = this.lru.get(id);
    if (hit) return hit;
    const generation = this.generation;
    const video = await load();
    if (video && generation === this.generation) this.lru.set(id, video);
    return video;
  }

  /** The cached page under `key` (its query), or loads it, as `getOrLoad` does for videos. */
  async getOrLoadPage(key: string, load: () => Promise<Page>): Promise<Page> {
    const hit = this.pages.get(key);
    if (hit) return hit;
    const generation = this.listGeneration;
    const page = await load();
    if (generation === this.listGeneration) this.pages.set(key, page);
    return page;
  }

  /**
   * The typeahead answer for `prefix` (trimmed, as typed): cached, or narrowed from the cached
   * complete answer of a shorter prefix (see typeahead.ts), or loaded, as `getOrLoadPage` does
   * for pages; a load already under way for `prefix` is shared (unless an invalidation came
   * after it began).
   */
  getOrLoadSuggestions(key: string, load: () => Promise<TypeaheadAnswer>): Promise<TypeaheadAnswer> {
    const hit = this.suggestions.get(key) ?? this.narrowed(key);
    if (hit) return Promise.resolve(hit);
    const pending = this.loadingSuggestions.get(key);
    if (pending) return pending;
    const generation = this.listGeneration;
    const loading = load().then(
      (titles) => {
        if (generation === this.listGeneration) {
          this.suggestions.set(key, titles);
          this.loadingSuggestions.delete(key);
        }
        return titles;
      },
      (err: unknown) => {
        if (generation === this.listGeneration) this.loadingSuggestions.delete(key);
        throw err;
      },
    );
    this.loadingSuggestions.set(key, loading);
    return loading;
  }

  /** The answer for `prefix` from the longest of its own prefixes with a complete cached answer. */
  private narrowed(prefix: string): TypeaheadAnswer | undefined {
    if (!foldsLikeTheDatabase(prefix)) return undefined;
    for (let n = prefix.length - 1; n > 0; n--) {
      const shorter = this.suggestions.get(prefix.slice(0, n));
      if (!shorter?.folded) continue;
      const answer = narrow({ titles: shorter.titles, folded: shorter.folded }, prefix);
      this.suggestions.set(prefix, answer);
      return answer;
    }
    return undefined;
  }

  /**
   * Drops one video, or everything when `id` is null. With `lists` (the default), also every
   * page and typeahead answer: any change of a READY video may move it onto or off any of them.
   * Pages and answers hold READY videos only, and a video leaves READY only by being deleted, so
   * a change of a video still on its way there (progress, a new attempt) passes them by.
   */
  invalidate(id: string | null, lists = true): void {
    this.generation++;
    if (id === null || lists) {
      this.listGeneration++;
      this.pages.clear();
      this.suggestions.clear();
      this.loadingSuggestions.clear();
    }
    if (id === null) this.lru.clear();
    else this.lru.delete(id);
  }

  get size(): number {
    return this.lru.size;
  }
}
