/** One member of a consumer group as the brokers describe it. */
export interface GroupMemberLoad {
  /** The partitions of the topic it owns. */
  partitions: readonly number[];
  /** Messages it runs at once (from its client id, see memberSlots); 1 for a member that does not say. */
  slots: number;
}

/**
 * How many messages of one topic wait in a consumer group without running, from what Kafka
 * tells: the lag of each partition (messages past the committed offset) and, for each member,
 * the partitions it owns and how many messages it runs at once. A member runs up to its slots of
 * the messages behind the committed offsets of its partitions (it reads ahead and commits in
 * order), so of those, all past its slots wait; a partition nobody owns waits whole. Messages a
 * member finished past one it still runs are not committed yet and count as its own, so the
 * figure errs towards waiting. Pure: no I/O.
 */
export function waitingMessages(input: {
  lag: ReadonlyMap<number, number>;
  members: readonly GroupMemberLoad[];
}): number {
  const owned = new Set<number>();
  let waiting = 0;
  for (const member of input.members) {
    let behind = 0;
    for (const p of member.partitions) {
      if (owned.has(p)) continue;
      owned.add(p);
      behind += Math.max(0, input.lag.get(p) ?? 0);
    }
    waiting += Math.max(0, behind - Math.max(1, member.slots));
  }
  for (const [p, lag] of input.lag) if (!owned.has(p)) waiting += Math.max(0, lag);
  return waiting;
}

const SLOTS_SUFFIX = /\.slots-(\d+)$/;

/** The client id a member announces its slots with (the brokers report every member's client id). */
export function clientIdWithSlots(clientId: string, slots: number): string {
  return `${clientId}.slots-${slots}`;
}

/** The slots a member announced in its client id; 1 when it announced none (one message at a time). */
export function memberSlots(clientId: string): number {
  const n = Number(SLOTS_SUFFIX.exec(clientId)?.[1]);
  return Number.isInteger(n) && n > 0 ? n : 1;
}
