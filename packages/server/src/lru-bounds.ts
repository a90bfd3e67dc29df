/**
 * lru-cache options that hold at most `entries` entries without lru-cache's `max`: given `max`,
 * lru-cache allocates its arrays for that many entries up front (≈ 48 bytes each with a TTL:
 * 3.4 MB for the server's caches, most of which never fill on a small site). Counted by size
 * instead, one per entry, its memory follows the entries it holds.
 */
export function atMostEntries(entries: number): { maxSize: number; sizeCalculation: () => number } {
  return { maxSize: entries, sizeCalculation: one };
}

const one = () => 1;
