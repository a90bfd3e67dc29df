import { LRUCache } from "lru-cache";
import type { Video } from "../generated/prisma/client.js";

export interface VideoCacheOptions {
  /** Videos kept (least recently used go first). */
  max?: number;
  /** Longest a video stays cached, in ms: a backstop should an invalidation be lost. */
  ttlMs?: number;
}

/**
 * The in-process cache of hot video reads, kept correct by invalidation: every change to a video,
 * made by this instance or another (see ChangeFeed), drops it. A read that overlapped an
 * invalidation is not stored, so a stale row read before the change cannot be cached after it.
 */
export class VideoCache {
  private readonly lru: LRUCache<string, Video>;
  /** Bumped by every invalidation; a read stores its row only if this did not move meanwhile. */
  private generation = 0;

  constructor(options: VideoCacheOptions = {}) {
    this.lru = new LRUCache({ max: options.max ?? 10_000, ttl: options.ttlMs ?? 60_000 });
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

  /** Drops one video, or everything when `id` is null. */
  invalidate(id: string | null): void {
    this.generation++;
    if (id === null) this.lru.clear();
    else this.lru.delete(id);
  }

  get size(): number {
    return this.lru.size;
  }
}
