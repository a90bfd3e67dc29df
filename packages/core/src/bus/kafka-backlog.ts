/**
 * How many messages of one topic wait in a consumer group without running, from what Kafka
 * tells: the lag of each partition (messages past the committed offset) and the partitions each
 * member owns. A partition gives one message at a time (offsets are committed in order) and a
 * member runs one message at a time, so of a partition's lag all but one wait, and of the
 * partitions with lag a member owns, all but one wait; a partition nobody owns waits whole.
 * Pure: no I/O.
 */
export function waitingMessages(input: {
  lag: ReadonlyMap<number, number>;
  owners: readonly (readonly number[])[];
}): number {
  let waiting = 0;
  const lagging = new Set<number>();
  for (const [partition, lag] of input.lag) {
    if (lag <= 0) continue;
    lagging.add(partition);
    waiting += lag - 1;
  }
  const owned = new Set<number>();
  for (const partitions of input.owners) {
    const mine = partitions.filter((p) => lagging.has(p) && !owned.has(p));
    for (const p of mine) owned.add(p);
    waiting += Math.max(0, mine.length - 1);
  }
  for (const p of lagging) if (!owned.has(p)) waiting++;
  return waiting;
}
