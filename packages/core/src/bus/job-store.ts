import type { SchedulePolicy } from "./fair-schedule.js";

/** A message as a job queue stores it. */
export interface QueuedJob {
  id: string;
  topic: string;
  key: string;
  payload: unknown;
  /** Deliveries so far, this one included (claiming counts one). */
  attempts: number;
  /** Why its last delivery failed (recorded by `retry`), when known. */
  lastError?: string | null;
  /** When the message was inserted. */
  createdAt: Date;
}

export interface ClaimOptions {
  topics: readonly string[];
  limit: number;
  /** Who holds the lease (one id per bus instance). */
  owner: string;
  leaseMs: number;
  /**
   * Claim in schedule order (fair-schedule.ts) instead of oldest first: phases in order, fair
   * shares between owners (a payload's `ownerId`), at most `free[topic]` jobs of a capped topic,
   * the last `reserve[topic]` of them for owners running none (planClaims).
   */
  schedule?: {
    policy: SchedulePolicy;
    free?: Readonly<Record<string, number>>;
    reserve?: Readonly<Record<string, number>>;
  };
}

export interface QueueSnapshot {
  waiting: { id: string; topic: string; key: string; owner: string; seq: number }[];
  running: { topic: string; key: string; owner: string }[];
}

/** The owner a job is scheduled for: its payload's `ownerId`, or one anonymous owner. */
export function jobOwner(payload: unknown): string {
  const owner = (payload as { ownerId?: unknown } | null)?.ownerId;
  return typeof owner === "string" ? owner : "";
}

/**
 * The storage under QueueBus: a durable table of jobs claimed with leases. Every change to a
 * claimed job names its owner, so a consumer that lost its lease cannot touch it any more.
 */
export interface JobStore {
  /** Durably adds a message; resolves once it is committed. */
  insert(message: { topic: string; key: string; payload: unknown }): Promise<void>;
  /**
   * Leases up to `limit` available jobs of these topics (not parked, not delayed, no live lease)
   * to `owner`, oldest first (or in `schedule` order), counting one attempt each. Concurrent claimers never get the same job.
   * Per key, order is kept: a job is not claimable while an older live job of its key (among
   * these topics) exists.
   */
  claim(options: ClaimOptions): Promise<QueuedJob[]>;
  /** Extends the lease; false when `owner` no longer holds it. */
  renew(id: string, owner: string, leaseMs: number): Promise<boolean>;
  /** The work is done: the job is removed. */
  ack(id: string, owner: string): Promise<void>;
  /** Handed back unfinished (a graceful stop): available at once, the attempt not counted. */
  release(id: string, owner: string): Promise<void>;
  /** Failed: available again after `delayMs`, with the error recorded. */
  retry(id: string, owner: string, delayMs: number, error: string): Promise<void>;
  /** Parked for good (dead letter): kept with its error, never delivered again. */
  park(id: string, owner: string, error: string): Promise<void>;
  /** Owners holding a lease now. */
  leaseOwners(): Promise<string[]>;
  /** Ends every lease of `owner` (a process known to be dead): its jobs are claimable at once. */
  expireLeases(owner: string): Promise<number>;
  /** Jobs of these topics waiting (not parked) and running now: what a queue position is computed from. */
  snapshot(topics: readonly string[]): Promise<QueueSnapshot>;
  /** True while a message with this key waits, runs or awaits a retry (parked ones excluded). */
  hasPending(key: string): Promise<boolean>;
  ping(): Promise<void>;
}

/**
 * Tells a QueueBus that jobs of a topic became available in another process (PostgreSQL
 * LISTEN/NOTIFY: a publish or a hand-back by another instance), so a waiting consumer claims at
 * once instead of at its next poll.
 */
export interface JobWakeups {
  /** `listener` gets the topic, or null when any topic may have jobs (notifications were missed). */
  subscribe(listener: (topic: string | null) => void): () => void;
  close(): Promise<void>;
}
