import { planClaims } from "./fair-schedule.js";
import { type ClaimOptions, type JobStore, jobOwner, type QueuedJob, type QueueSnapshot } from "./job-store.js";

interface Row extends QueuedJob {
  availableAt: number;
  leaseOwner: string | null;
  leaseUntil: number;
  parked: boolean;
  lastError: string | null;
}

/**
 * A JobStore in memory, with the semantics of the database one: for unit tests of consumers
 * (the transcoder) and of the delivery model itself. Nothing survives the process.
 */
export class MemoryJobStore implements JobStore {
  readonly #rows = new Map<string, Row>();
  #seq = 0;

  async insert(message: { topic: string; key: string; payload: unknown }): Promise<void> {
    const id = String(++this.#seq);
    // Stored as JSON, as a database would, so no consumer shares an object with its publisher.
    const payload = JSON.parse(JSON.stringify(message.payload)) as unknown;
    this.#rows.set(id, {
      id,
      topic: message.topic,
      key: message.key,
      payload,
      attempts: 0,
      createdAt: new Date(),
      availableAt: 0,
      leaseOwner: null,
      leaseUntil: 0,
      parked: false,
      lastError: null,
    });
  }

  async claim({ topics, limit, owner, leaseMs, schedule }: ClaimOptions): Promise<QueuedJob[]> {
    const now = Date.now();
    // Rows are in insertion order: the first live row of each key blocks the later ones.
    const blocked = new Set<string>();
    let claimable: Row[] = [];
    for (const row of this.#rows.values()) {
      if (row.parked || !topics.includes(row.topic)) continue;
      if (blocked.has(row.key)) continue;
      blocked.add(row.key);
      if (row.availableAt > now) continue;
      if (row.leaseOwner !== null && row.leaseUntil > now) continue;
      claimable.push(row);
    }
    if (schedule) {
      const live = [...this.#rows.values()].filter((r) => !r.parked && r.leaseOwner !== null && r.leaseUntil > now);
      const chosen = planClaims({
        waiting: claimable.map((r) => ({ id: r.id, topic: r.topic, owner: jobOwner(r.payload), seq: Number(r.id) })),
        running: live.map((r) => ({ topic: r.topic, owner: jobOwner(r.payload) })),
        policy: schedule.policy,
        limit,
        free: schedule.free,
        reserve: schedule.reserve,
      });
      claimable = chosen.map((c) => this.#rows.get(c.id) as Row);
    }
    return claimable.slice(0, limit).map((row) => {
      row.leaseOwner = owner;
      row.leaseUntil = now + leaseMs;
      row.attempts++;
      return {
        id: row.id,
        topic: row.topic,
        key: row.key,
        payload: row.payload,
        attempts: row.attempts,
        lastError: row.lastError,
        createdAt: row.createdAt,
      };
    });
  }

  /** Jobs waiting to be claimed and jobs running now, for a queue display. */
  async snapshot(topics: readonly string[]): Promise<QueueSnapshot> {
    const now = Date.now();
    const rows = [...this.#rows.values()].filter((r) => !r.parked && topics.includes(r.topic));
    const running = rows.filter((r) => r.leaseOwner !== null && r.leaseUntil > now);
    return {
      waiting: rows
        .filter((r) => !running.includes(r))
        .map((r) => ({ id: r.id, topic: r.topic, key: r.key, owner: jobOwner(r.payload), seq: Number(r.id) })),
      running: running.map((r) => ({ topic: r.topic, key: r.key, owner: jobOwner(r.payload) })),
    };
  }

  #held(id: string, owner: string): Row | null {
    const row = this.#rows.get(id);
    return row && row.leaseOwner === owner && !row.parked ? row : null;
  }

  async renew(id: string, owner: string, leaseMs: number): Promise<boolean> {
    const row = this.#held(id, owner);
    if (!row) return false;
    row.leaseUntil = Date.now() + leaseMs;
    return true;
  }

  async ack(id: string, owner: string): Promise<void> {
    if (this.#held(id, owner)) this.#rows.delete(id);
  }

  async release(id: string, owner: string): Promise<void> {
    const row = this.#held(id, owner);
    if (!row) return;
    row.leaseOwner = null;
    row.availableAt = 0;
    row.attempts = Math.max(0, row.attempts - 1);
  }

  async retry(id: string, owner: string, delayMs: number, error: string): Promise<void> {
    const row = this.#held(id, owner);
    if (!row) return;
    row.leaseOwner = null;
    row.availableAt = Date.now() + delayMs;
    row.lastError = error;
  }

  async park(id: string, owner: string, error: string): Promise<void> {
    const row = this.#held(id, owner);
    if (!row) return;
    row.leaseOwner = null;
    row.parked = true;
    row.lastError = error;
  }

  async leaseOwners(): Promise<string[]> {
    const now = Date.now();
    return [
      ...new Set(
        [...this.#rows.values()].filter((r) => r.leaseOwner && r.leaseUntil > now).map((r) => r.leaseOwner as string),
      ),
    ];
  }

  async expireLeases(owner: string): Promise<number> {
    let n = 0;
    for (const row of this.#rows.values()) {
      if (row.leaseOwner === owner && !row.parked) {
        row.leaseUntil = 0;
        n++;
      }
    }
    return n;
  }

  async hasPending(key: string): Promise<boolean> {
    for (const row of this.#rows.values()) if (row.key === key && !row.parked) return true;
    return false;
  }

  async ping(): Promise<void> {}

  /** What another consumer does after this one's lease ran out unnoticed (a paused process): takes the job. */
  takeOver(key: string, owner: string): void {
    for (const row of this.#rows.values()) {
      if (row.key === key && !row.parked) {
        row.leaseOwner = owner;
        row.leaseUntil = Date.now() + 60_000;
      }
    }
  }

  /** Parked messages with their last error (tests and diagnostics). */
  parked(): { topic: string; key: string; error: string | null }[] {
    return [...this.#rows.values()]
      .filter((r) => r.parked)
      .map((r) => ({ topic: r.topic, key: r.key, error: r.lastError }));
  }
}
