import { type Bus, type Config, isDeadLocalOwner, type Logger, newOwnerId, type VideoEvent } from "@reelkit/core";
import { videoFromSnapshot } from "../catalog/video-events.js";
import { mediaBaseUrl, toApiVideo } from "../http/video-mapper.js";
import type { ClaimedDelivery, WebhookRepository } from "./webhook-repository.js";
import { type SendInput, type SendResult, sendWebhook } from "./webhook-sender.js";
import { signWebhook } from "./webhook-signing.js";

/** The consumer group that turns `video.event` messages into webhook deliveries. */
export const WEBHOOK_GROUP = "reelkit-webhooks";

export interface WebhookWorkOptions {
  config: Pick<Config, "webhookRetrySeconds" | "webhookTimeoutMs" | "webhookAllowPrivate" | "publicUrl" | "storage">;
  webhooks: WebhookRepository;
  bus: Bus;
  logger?: Logger;
  /** How often due deliveries (retries, other instances' events) are looked for. */
  pollMs?: number;
  /** Attempts running at once in this process. */
  concurrency?: number;
  /** The HTTP attempt; `sendWebhook` unless a test replaces the network. */
  send?: (input: SendInput) => Promise<SendResult>;
}

export interface WebhookWork {
  /** Looks for due deliveries now. */
  kick(): void;
  stop(): Promise<void>;
}

/**
 * The body every delivery of an event carries, byte for byte (Standard Webhooks' shape):
 * `{ type, timestamp, data }`, `data` being the video as the API returns it after the change.
 */
export function webhookBody(event: VideoEvent, mediaBase: string): string {
  const video = toApiVideo(videoFromSnapshot(event.video), mediaBase);
  return JSON.stringify({ type: event.type, timestamp: event.occurredAt, data: video });
}

/**
 * Webhooks, started and stopped by the runtime: the bus consumer of `video.event` writes one
 * delivery row per subscribed endpoint (durable before the message is acknowledged), and the
 * delivery loop sends due rows — each endpoint gets a video's events in order — and records
 * each attempt, retrying on the configured schedule.
 */
export async function startWebhookWork(opts: WebhookWorkOptions): Promise<WebhookWork> {
  const { config, webhooks, bus, logger } = opts;
  const send = opts.send ?? sendWebhook;
  const owner = newOwnerId();
  const concurrency = opts.concurrency ?? 16;
  const leaseMs = config.webhookTimeoutMs + 15_000;
  const mediaBase = mediaBaseUrl(config);
  const inFlight = new Map<bigint, Promise<void>>();
  let running = true;
  let recovered = false;
  let timer: NodeJS.Timeout | null = null;
  let polling: Promise<void> | null = null;
  let again = false;

  const attempt = async (delivery: ClaimedDelivery) => {
    const headers = signWebhook({
      id: delivery.eventId,
      timestamp: Math.floor(Date.now() / 1000),
      body: delivery.payload,
      secret: delivery.secret,
    });
    const result = await send({
      url: delivery.url,
      headers,
      body: delivery.payload,
      timeoutMs: config.webhookTimeoutMs,
      allowPrivate: config.webhookAllowPrivate,
    });
    const schedule = config.webhookRetrySeconds;
    const retrySeconds = schedule[delivery.attempts];
    await webhooks.recordAttempt(
      owner,
      delivery,
      result.ok
        ? { ok: true, status: result.status ?? 200 }
        : {
            ok: false,
            status: result.status,
            error: result.error ?? "failed",
            retryInMs: retrySeconds === undefined ? null : retrySeconds * 1000,
          },
    );
    if (!result.ok) {
      logger?.warn(
        {
          webhookId: delivery.eventId,
          endpointId: delivery.endpointId,
          error: result.error,
          attempt: delivery.attempts + 1,
        },
        retrySeconds === undefined ? "webhook delivery failed for good; endpoint disabled" : "webhook delivery failed",
      );
    }
  };

  const poll = async () => {
    if (!recovered) {
      // Claims of instances on this host whose process died end now, not after their lease.
      for (const claimer of await webhooks.claimOwners()) {
        if (isDeadLocalOwner(claimer)) await webhooks.releaseClaims(claimer);
      }
      recovered = true;
    }
    const capacity = concurrency - inFlight.size;
    if (capacity <= 0) return;
    const due = await webhooks.claimDue(owner, capacity, leaseMs);
    for (const delivery of due) {
      const job = attempt(delivery)
        .catch((err: unknown) =>
          logger?.warn({ err, webhookId: delivery.eventId }, "recording a webhook attempt failed"),
        )
        .finally(() => {
          inFlight.delete(delivery.id);
          // The next event of the same video may be due now.
          kick();
        });
      inFlight.set(delivery.id, job);
    }
  };

  const schedule = (delay: number) => {
    if (!running) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      if (polling) {
        again = true;
        return;
      }
      polling = poll()
        .catch((err: unknown) => logger?.warn({ err }, "looking for due webhook deliveries failed"))
        .finally(() => {
          polling = null;
          if (again) {
            again = false;
            schedule(0);
          } else if (!timer) schedule(opts.pollMs ?? 1_000);
        });
    }, delay);
    timer.unref();
  };
  const kick = () => schedule(0);

  await bus.subscribe(
    WEBHOOK_GROUP,
    {
      "video.event": async (event) => {
        const added = await webhooks.fanOut({
          id: event.id,
          type: event.type,
          videoId: event.videoId,
          ownerId: event.ownerId,
          body: webhookBody(event, mediaBase),
        });
        if (added > 0) kick();
      },
    },
    {
      concurrency: 8,
      onParked: async (message, error) => logger?.error({ key: message.key, error }, "video event parked"),
    },
  );
  kick();

  return {
    kick,
    async stop() {
      running = false;
      if (timer) clearTimeout(timer);
      await bus.unsubscribe(WEBHOOK_GROUP);
      await polling;
      await Promise.allSettled(inFlight.values());
    },
  };
}
