import { type Bus, isDeadLocalOwner, isTopic, type Logger, newOwnerId } from "@reelkit/core";
import type { OutboxRepository, OutboxRow } from "../catalog/outbox.js";

export interface OutboxRelayOptions {
  outbox: Pick<OutboxRepository, "claim" | "markPublished" | "markFailed" | "claimOwners" | "releaseClaims">;
  bus: Bus;
  logger?: Logger;
  /** Poll interval when idle. */
  intervalMs?: number;
  /** Rows claimed and published at once (32 by default). */
  concurrency?: number;
  /** How long a claimed row is this relay's before another instance may take it over. */
  claimMs?: number;
}

/**
 * Publishes outbox rows to the bus and marks them published only after the bus accepted them
 * (durably: a committed job row, a Kafka acknowledgement), so a crash anywhere redelivers
 * (at-least-once). Rows are claimed first, so relays of several server instances share the
 * outbox without sending a row twice; the in-flight set does the same for overlapping polls.
 */
export class OutboxRelay {
  private readonly inFlight = new Map<bigint, Promise<void>>();
  private readonly owner = newOwnerId();
  private recovered = false;
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private polling: Promise<void> | null = null;

  constructor(private readonly opts: OutboxRelayOptions) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  /** Polls now (e.g. right after an upload finished) instead of waiting for the timer. */
  kick(): void {
    if (this.running) this.schedule(0);
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.polling;
    await Promise.allSettled(this.inFlight.values());
  }

  private schedule(delay: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.polling) return this.schedule(50);
      this.polling = this.poll().finally(() => {
        this.polling = null;
        if (this.running && !this.timer) this.schedule(this.opts.intervalMs ?? 500);
      });
    }, delay);
    this.timer.unref();
  }

  private async poll(): Promise<void> {
    const capacity = (this.opts.concurrency ?? 32) - this.inFlight.size;
    if (capacity <= 0 || !this.running) return;
    if (!this.recovered) {
      // Claims of relays on this host whose process died end now, not after their timeout.
      try {
        for (const owner of await this.opts.outbox.claimOwners()) {
          if (isDeadLocalOwner(owner)) await this.opts.outbox.releaseClaims(owner);
        }
        this.recovered = true;
      } catch (err) {
        this.opts.logger?.warn({ err }, "could not look for the claims of dead relays");
      }
    }
    let rows: OutboxRow[];
    try {
      rows = await this.opts.outbox.claim(this.owner, capacity, this.opts.claimMs);
    } catch (err) {
      this.opts.logger?.warn({ err }, "outbox poll failed");
      return;
    }
    const batch = rows.filter((row) => !this.inFlight.has(row.id));
    if (batch.length === 0) return;
    const job = this.publish(batch).then((ok) => {
      for (const row of batch) this.inFlight.delete(row.id);
      // After a failure wait for the next poll instead of retrying in a tight loop.
      if (ok) this.kick();
    });
    for (const row of batch) this.inFlight.set(row.id, job);
  }

  /**
   * Publishes a claimed batch (one row per key: the claim holds back a key's younger rows) at
   * once, then marks what the bus accepted published in one statement. Resolves whether any was.
   */
  private async publish(rows: OutboxRow[]): Promise<boolean> {
    const published: bigint[] = [];
    await Promise.all(
      rows.map(async (row) => {
        try {
          if (!isTopic(row.topic)) throw new Error(`unknown topic ${row.topic}`);
          // The bus validates the payload against the topic's schema.
          await this.opts.bus.publish(row.topic, row.payload as never, row.key);
          this.opts.logger?.info({ topic: row.topic, key: row.key }, "outbox event published");
          published.push(row.id);
        } catch (err) {
          await this.failed(row.id, err);
        }
      }),
    );
    if (published.length === 0) return false;
    try {
      await this.opts.outbox.markPublished(published);
      return true;
    } catch (err) {
      // Published but not marked: sent again after the retry delay (at least once).
      await Promise.all(published.map((id) => this.failed(id, err)));
      return false;
    }
  }

  private async failed(id: bigint, err: unknown): Promise<void> {
    this.opts.logger?.warn({ err, outboxId: String(id) }, "outbox publish failed");
    await this.opts.outbox.markFailed(id, err instanceof Error ? err.message : String(err)).catch(() => {});
  }
}
