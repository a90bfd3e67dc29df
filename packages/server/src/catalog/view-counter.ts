import { LRUCache } from "lru-cache";
import { Prisma, type PrismaClient } from "../generated/prisma/client.js";
import { atMostEntries } from "../lru-bounds.js";

export interface ViewCounterOptions {
  /** Playback sessions remembered for de-duplication. */
  maxSessions?: number;
  /** How long a session counts as the same playback, in ms. */
  sessionTtlMs?: number;
  /** Views counted per client address and video within `addressWindowMs`, whatever the sessions. */
  maxViewsPerAddress?: number;
  /** The window of `maxViewsPerAddress`, from the first view counted, in ms. */
  addressWindowMs?: number;
  /** (video, address) pairs remembered for that limit; the least recently seen are forgotten first. */
  maxAddresses?: number;
}

/** Defaults: at most 3 views per address per video per hour, on top of one per session. */
export const VIEWS_PER_ADDRESS = 3;
export const ADDRESS_WINDOW_MS = 3600_000;

/**
 * Counts a view once per playback session, cheaply at volume: views are de-duplicated in memory
 * (video + session id), limited per client address (a few per video and hour, so a script that
 * makes up session ids cannot inflate a count) and added up per video; `flush()` writes every pending count in one
 * UPDATE (the runtime calls it every few seconds and at shutdown). A session that reaches two
 * instances may be counted once on each; counts still waiting for a flush are lost on a crash.
 */
export class ViewCounter {
  private readonly seen: LRUCache<string, true>;
  /** Views counted per `video + address` in the current window of that pair. */
  private readonly perAddress: LRUCache<string, number>;
  private readonly maxPerAddress: number;
  private pending = new Map<string, number>();
  private flushing: Promise<string[]> | null = null;

  constructor(
    private readonly prisma: PrismaClient,
    options: ViewCounterOptions = {},
  ) {
    // ≈ 40 MB up front for a million with `max` (see atMostEntries); this follows the sessions seen.
    this.seen = new LRUCache({
      ...atMostEntries(options.maxSessions ?? 1_000_000),
      ttl: options.sessionTtlMs ?? 6 * 3600_000,
    });
    this.maxPerAddress = options.maxViewsPerAddress ?? VIEWS_PER_ADDRESS;
    this.perAddress = new LRUCache({
      ...atMostEntries(options.maxAddresses ?? 100_000),
      ttl: options.addressWindowMs ?? ADDRESS_WINDOW_MS,
    });
  }

  /**
   * Records a view from the client at `address`; false when this session was already counted for
   * this video, or that address has used up its views of the video for now.
   */
  record(videoId: string, sessionId: string, address: string): boolean {
    const key = `${videoId}\n${sessionId}`;
    if (this.seen.has(key)) return false;
    const client = `${videoId}\n${addressKey(address)}`;
    const counted = this.perAddress.get(client) ?? 0;
    if (counted >= this.maxPerAddress) return false;
    // The window runs from the first view counted, not the latest.
    this.perAddress.set(client, counted + 1, { noUpdateTTL: true });
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

/**
 * The client an address stands for: an IPv4 address as it is, an IPv6 one by its /64 prefix (the
 * smallest block a site is given: one host can hold all of it), an IPv4-mapped IPv6 one as IPv4.
 */
export function addressKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1] as string;
  if (!address.includes(":")) return address;
  const [head = "", tail] = address.toLowerCase().split("%")[0]?.split("::") ?? [];
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const groups =
    tail === undefined ? left : [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill("0"), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ""))
    .join(":")}::/64`;
}
