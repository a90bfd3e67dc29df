import { type Bus, isDeadLocalOwner, isTopic, type Logger, newOwnerId } from "@reelkit/core";
import type { OutboxRepository, OutboxRow } from "../catalog/outbox.js";

export interface OutboxRelayOptions {
  outbox: Pick<OutboxRepository, "claim" | "markPublished" | "markFailed" | "claimOwners" | "releaseClaims">;
  bus: Bus;
  logger?: Logger;
  /** Poll interval when idle. */
  intervalMs?: number;
  /** Messages published at once. */
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
    const capacity = (this.opts.concurrency ?? 4) - this.inFlight.size;
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
    for (const row of rows) {
      if (this.inFlight.has(row.id)) continue;
      const job = this.publish(row).then((ok) => {
        this.inFlight.delete(row.id);
        // After a failure wait for the next poll instead of retrying in a tight loop.
        if (ok) this.kick();
      });
      this.inFlight.set(row.id, job);
    }
  }

  private async publish(row: OutboxRow): Promise<boolean> {
    try {
      if (!isTopic(row.topic)) throw new Error(`unknown topic ${row.topic}`);
      // The bus validates the payload against the topic's schema.
      await this.opts.bus.publish(row.topic, row.payload as never, row.key);
      this.opts.logger?.info({ topic: row.topic, key: row.key }, "outbox event published");
      await this.opts.outbox.markPublished(row.id);
      return true;
    } catch (err) {
      this.opts.logger?.warn({ err, outboxId: String(row.id), topic: row.topic }, "outbox publish failed");
      await this.opts.outbox.markFailed(row.id, err instanceof Error ? err.message : String(err)).catch(() => {});
      return false;
    }
  }
}
