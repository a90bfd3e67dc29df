import type { Bus, Logger, Topic } from "@reelkit/core";
import type { OutboxRepository } from "../catalog/outbox.js";

export interface OutboxRelayOptions {
  outbox: Pick<OutboxRepository, "pending" | "markPublished" | "markFailed">;
  bus: Bus;
  logger?: Logger;
  /** Poll interval when idle. */
  intervalMs?: number;
  /** Messages published at once. */
  concurrency?: number;
}

/**
 * Publishes outbox rows to the bus and marks them published only after the bus accepted them,
 * so a crash anywhere redelivers (at-least-once). Rows are published concurrently; the
 * in-flight set keeps one row from being published twice by overlapping polls.
 */
export class OutboxRelay {
  private readonly inFlight = new Map<bigint, Promise<void>>();
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
    if (capacity <= 0) return;
    let rows: Awaited<ReturnType<OutboxRelayOptions["outbox"]["pending"]>>;
    try {
      rows = await this.opts.outbox.pending(capacity + this.inFlight.size);
    } catch (err) {
      this.opts.logger?.warn({ err }, "outbox poll failed");
      return;
    }
    for (const row of rows) {
      if (this.inFlight.has(row.id) || this.inFlight.size >= (this.opts.concurrency ?? 4)) continue;
      const job = this.publish(row).then((ok) => {
        this.inFlight.delete(row.id);
        // After a failure wait for the next poll instead of retrying in a tight loop.
        if (ok) this.kick();
      });
      this.inFlight.set(row.id, job);
    }
  }

  private async publish(row: { id: bigint; topic: string; key: string; payload: unknown }): Promise<boolean> {
    try {
      // Topics are written by the catalog from the typed event catalogue.
      await this.opts.bus.publish(row.topic as Topic, row.payload as never, row.key);
      await this.opts.outbox.markPublished(row.id);
      return true;
    } catch (err) {
      this.opts.logger?.warn({ err, outboxId: String(row.id), topic: row.topic }, "outbox publish failed");
      await this.opts.outbox.markFailed(row.id, err instanceof Error ? err.message : String(err)).catch(() => {});
      return false;
    }
  }
}
