import type { BusMessage, EventPayloads, HandlerMap, Topic } from "../events.js";
import type { DeliveryLedger } from "./delivery-ledger.js";
import type { SchedulePolicy } from "./fair-schedule.js";

export interface SubscribeOptions {
  /** Messages this group handles at once in this process. */
  concurrency?: number;
  /**
   * Called when a message is parked (dead-lettered) after its last failed attempt, before the
   * bus lets go of it: the place to tell the owner (e.g. publish `video.transcode.failed`).
   * A message that fails validation is parked without this call (nothing in it can be trusted).
   * When it throws, nothing is parked: the message is retried after the backoff and reported
   * again (same error, handler not run), so it is parked once, after one successful report.
   */
  onParked?: (message: BusMessage, error: string) => Promise<void>;
  /**
   * Kafka: where deliveries are counted, so that a message whose handler kills its process is
   * parked after the configured number of deliveries whichever processes made them (e.g. a
   * StorageDeliveryLedger). Without one the count is per process. The job queue counts in its
   * own rows and ignores this.
   */
  deliveryLedger?: DeliveryLedger;
  /**
   * Hands jobs out by phase and fair share (fair-schedule.ts) instead of oldest first, with at
   * most `slots[topic]` of a topic running at once in this consumer (within `concurrency`), the
   * last `reserve[topic]` of them kept for owners with none of that topic running (job queue
   * only: a Kafka partition cannot be reordered).
   */
  schedule?: SchedulePolicy & {
    slots?: Partial<Record<Topic, number>>;
    reserve?: Partial<Record<Topic, number>>;
  };
}

/**
 * The message bus, with one delivery model whatever the backend (a job queue in the database,
 * or Kafka): at-least-once, acknowledged only after the handler resolved, redelivered after a
 * crash, a lost lease or a rebalance, parked after the configured number of failed attempts.
 */
export interface Bus {
  /**
   * Resolves once the message is durably accepted (a committed row, a broker acknowledgement),
   * never once it has been processed. Rejects a payload that does not match its topic's schema.
   */
  publish<T extends Topic>(topic: T, payload: EventPayloads[T], key?: string): Promise<void>;
  /**
   * Starts consuming for a group. Refuses a topic that already has a handler in this process,
   * and rejects unknown topics at compile time.
   */
  subscribe(group: string, handlers: HandlerMap, options?: SubscribeOptions): Promise<void>;
  /**
   * Stops a group's consumption in this process: running handlers are aborted and their
   * messages handed back at once (for the next consumer, without counting an attempt).
   */
  unsubscribe(group: string): Promise<void>;
  /** Resolves when the backend answers (readiness). */
  ping(): Promise<void>;
  /** Unsubscribes every group and releases the backend. */
  close(): Promise<void>;
}

/**
 * A publish the bus's backend could not take because it is unreachable or unavailable for a
 * while (a broker restarting, a leader election), as opposed to one it refused (a message too
 * large, an authorisation error). A handler that fails with it (directly or as a `cause`) is not
 * at fault: its delivery is not counted towards parking the message, and it runs again once the
 * backend answers.
 */
export class BusUnavailableError extends Error {
  readonly code = "BUS_UNAVAILABLE";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "BusUnavailableError";
  }
}

/**
 * Whether `err`, or an error in its `cause` chain, is a BusUnavailableError (by its code, so a
 * second copy of this module in a bundle still agrees).
 */
export function isBusUnavailable(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 10; e = e.cause, depth++) {
    if ((e as { code?: unknown }).code === "BUS_UNAVAILABLE") return true;
  }
  return false;
}
