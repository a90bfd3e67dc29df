import { LRUCache } from "lru-cache";
import { Prisma, type PrismaClient } from "../generated/prisma/client.js";

export interface ViewCounterOptions {
  /** Playback sessions remembered for de-duplication. */
  maxSessions?: number;
  /** How long a session counts as the same playback, in ms. */
  sessionTtlMs?: number;
}

/**
 * Counts a view once per playback session, cheaply at volume: views are de-duplicated in memory
 * (video + session id) and added up per video; `flush()` writes every pending count in one
 * UPDATE (the runtime calls it every few seconds and at shutdown). A session that reaches two
 * instances may be counted once on each; counts still waiting for a flush are lost on a crash.
 */
export class ViewCounter {
  private readonly seen: LRUCache<string, true>;
  private pending = new Map<string, number>();
  private flushing: Promise<string[]> | null = null;

  constructor(
    private readonly prisma: PrismaClient,
    options: ViewCounterOptions = {},
  ) {
    // Bounded by size (one per entry) rather than `max`: lru-cache allocates its arrays for `max`
    // entries up front (≈ 40 MB for a million), while this way memory follows the sessions seen.
    this.seen = new LRUCache({
      maxSize: options.maxSessions ?? 1_000_000,
      sizeCalculation: () => 1,
      ttl: options.sessionTtlMs ?? 6 * 3600_000,
    });
  }

  /** Records a view; false when this session was already counted for this video. */
  record(videoId: string, sessionId: string): boolean {
    const key = `${videoId}\n${sessionId}`;
    if (this.seen.has(key)) return false;
    this.seen.set(key, true);
    this.pending.set(videoId, (this.pending.get(videoId) ?? 0) + 1);
    return true;
  }

  /** Writes pending counts (one statement for all videos); resolves with the ids written. */
  async flush(): Promise<string[]> {
    // One flush at a time; a caller arriving meanwhile waits for it, then flushes what is new.
    while (this.flushing) await this.flushing.catch(() => {});
    if (this.pending.size === 0) return [];
    const batch = this.pending;
    this.pending = new Map();
    const ids = [...batch.keys()];
    const counts = ids.map((id) => BigInt(batch.get(id) ?? 0));
    this.flushing = this.prisma
      .$executeRaw(
        Prisma.sql`UPDATE "video" v SET "view_count" = v."view_count" + d.n
                     FROM unnest(${ids}::uuid[], ${counts}::bigint[]) AS d(id, n)
                    WHERE v."id" = d.id`,
      )
      .then(
        () => ids,
        (err: unknown) => {
          // Put the counts back so the next flush retries them.
          for (const [id, n] of batch) this.pending.set(id, (this.pending.get(id) ?? 0) + n);
          throw err;
        },
      );
    try {
      return await this.flushing;
    } finally {
      this.flushing = null;
    }
  }
}
