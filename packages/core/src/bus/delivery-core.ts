import type { Logger } from "pino";
import {
  type BusMessage,
  type EventPayloads,
  type Handler,
  type HandlerMap,
  type Topic,
  validatePayload,
} from "../events.js";
import { isBusUnavailable, type SubscribeOptions } from "./bus.js";
import { type DeliveryPolicy, errorText, retryDelayMs } from "./delivery-policy.js";

/**
 * What a bus does with one delivered message, the same whatever the backend. A bus calls
 * `deliver` with a `DeliveryTransport` (how its backend acknowledges, retries, hands back and
 * parks); the decisions (attempts, backoff, parking, and the order of report, park and ack)
 * are taken here and only here.
 *
 * The order when a message is parked: the owner is told first (`onParked`), then the message
 * is parked (dead-lettered), which lets go of it. A failed report parks nothing: the message
 * is retried after the backoff, and its next delivery, already past the last attempt, reports
 * again without running the handler. So a message is parked once, after one successful report
 * (a crash between the two reports it again: at-least-once).
 */
export interface DeliveryTransport {
  /** Deliveries of this message so far, this one included; null when it could not be counted (stopping). */
  begin(): Promise<{ attempts: number; lastError: string | null } | null>;
  /** The work is done: the message is let go for good. */
  ack(): Promise<void>;
  /** Failed: delivered again after `delayMs`, with `error` kept for its next delivery. */
  retry(delayMs: number, error: string): Promise<void>;
  /** Handed back unfinished (a graceful stop): for the next consumer, the attempt not counted. */
  handBack(): Promise<void>;
  /**
   * Stopped because another consumer has the message now (see `interruption`). Where the bus
   * counts deliveries itself (Kafka's ledger), this one is taken back: a rebalance that moved the
   * partition is no fault of the job, and must not bring it closer to being parked.
   */
  lost(): Promise<void>;
  /**
   * The handler failed because the bus itself could not take a message (BusUnavailableError: a
   * broker restarting). Not the job's fault: this delivery is taken back, not counted, and the
   * message runs again once the backend answers (or goes to the next consumer).
   */
  unavailable(error: string): Promise<void>;
  /** Parked for good (dead letter) after `attempts` deliveries, and let go. */
  park(error: string, attempts: number): Promise<void>;
  /**
   * Why the running handler was stopped, asked after it threw: "lost" when another consumer
   * has the message now (lease lost, partition revoked: nothing to do here), "stopping" on a
   * graceful stop, null when nothing stopped it (the handler failed).
   */
  interruption(): "lost" | "stopping" | null;
}

/** What one delivery came to. */
export type DeliveryOutcome = "acked" | "retried" | "parked" | "handed-back" | "lost";

/** The next step after a delivery was counted: run the handler, or park without running it. */
export type Admission = { run: true } | { run: false; error: string; attempts: number };

/** Whether a delivery runs: one past the last attempt means earlier ones ended without an outcome. */
export function admit(policy: DeliveryPolicy, attempts: number, lastError: string | null): Admission {
  if (attempts <= policy.maxAttempts) return { run: true };
  return { run: false, error: lastError ?? `no outcome after ${attempts - 1} deliveries`, attempts: attempts - 1 };
}

/** What to do with a message whose handler threw. */
export type FailureStep =
  | { step: "lost" }
  | { step: "hand-back" }
  | { step: "unavailable"; error: string }
  | { step: "park"; error: string; attempts: number }
  | { step: "retry"; delayMs: number; error: string };

export function afterFailure(
  policy: DeliveryPolicy,
  attempts: number,
  error: string,
  interruption: "lost" | "stopping" | null,
  /** The handler failed because the bus could not take a message (see isBusUnavailable). */
  busUnavailable = false,
): FailureStep {
  if (interruption === "lost") return { step: "lost" };
  if (interruption === "stopping") return { step: "hand-back" };
  if (busUnavailable) return { step: "unavailable", error };
  if (attempts >= policy.maxAttempts) return { step: "park", error, attempts };
  return { step: "retry", delayMs: retryDelayMs(policy, attempts), error };
}

export interface DeliverOptions {
  transport: DeliveryTransport;
  policy: DeliveryPolicy;
  /** The catalogue topic and key of the message, and its payload as stored (validated here). */
  topic: string;
  key: string;
  payload: unknown;
  handlers: HandlerMap;
  options: SubscribeOptions;
  /** Aborted when the handler must stop (a stop, a lost lease, a revoked partition). */
  signal: AbortSignal;
  enqueuedAt?: Date;
  log?: Logger;
}

/** Runs one delivery of a message to its handler and settles it through the transport. */
export async function deliver(o: DeliverOptions): Promise<DeliveryOutcome> {
  const { transport, log } = o;
  let payload: EventPayloads[Topic];
  try {
    payload = validatePayload(o.topic, o.payload);
  } catch (err) {
    // Nothing in it can be trusted, not even to tell its owner: parked without a report.
    log?.error({ err }, "parked a message that does not match its schema");
    await transport.park(errorText(err), 0);
    return "parked";
  }
  const message = { topic: o.topic, key: o.key, payload } as BusMessage;
  const record = await transport.begin();
  if (record === null) return "handed-back";
  const admission = admit(o.policy, record.attempts, record.lastError);
  if (!admission.run) return reportAndPark(o, message, admission.error, admission.attempts);

  try {
    const handler = o.handlers[message.topic] as Handler<Topic>;
    await handler(payload, { signal: o.signal, deliveryAttempt: record.attempts, enqueuedAt: o.enqueuedAt });
  } catch (err) {
    const next = afterFailure(
      o.policy,
      record.attempts,
      errorText(err),
      transport.interruption(),
      isBusUnavailable(err),
    );
    switch (next.step) {
      case "lost":
        log?.warn("stopped: another consumer has the message now");
        await transport.lost();
        return "lost";
      case "hand-back":
        await transport.handBack();
        log?.info("handed the job back (stopping)");
        return "handed-back";
      case "unavailable":
        log?.warn({ err }, "the bus could not take a message; running it again once it answers (not counted)");
        await transport.unavailable(next.error);
        return "retried";
      case "park":
        return reportAndPark(o, message, next.error, next.attempts);
      case "retry":
        log?.warn({ err, retryInMs: next.delayMs }, "handler failed; the message will be retried");
        await transport.retry(next.delayMs, next.error);
        return "retried";
    }
  }
  await transport.ack();
  return "acked";
}

async function reportAndPark(o: DeliverOptions, message: BusMessage, error: string, attempts: number) {
  o.log?.error({ error, attempts }, "parking a message after its last failed attempt");
  try {
    await o.options.onParked?.(message, error);
  } catch (err) {
    // Not parked: its next delivery reports again, then parks it.
    const delayMs = retryDelayMs(o.policy, attempts);
    o.log?.error({ err, retryInMs: delayMs }, "could not report a parked message; it will be reported again");
    await o.transport.retry(delayMs, error);
    return "retried" as const;
  }
  await o.transport.park(error, attempts);
  return "parked" as const;
}
