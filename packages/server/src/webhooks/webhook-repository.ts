import { randomUUID } from "node:crypto";
import type { WebhookEventType } from "@reelkit/core";
import { isUuid } from "../catalog/catalog-query.js";
import { Prisma, type PrismaClient, type WebhookDelivery, type WebhookEndpoint } from "../generated/prisma/client.js";
import { newWebhookSecret } from "./webhook-signing.js";

export type { WebhookDelivery, WebhookEndpoint };

/** One delivery claimed for an attempt, with where it goes. */
export interface ClaimedDelivery {
  id: bigint;
  eventId: string;
  payload: string;
  attempts: number;
  url: string;
  secret: string;
  endpointId: string;
}

export interface EndpointChanges {
  url?: string;
  events?: WebhookEventType[];
  /** false: stop deliveries; true: resume them (pending ones go at once) and clear the notice. */
  enabled?: boolean;
}

/** What happened to one attempt, as recorded. */
export type AttemptOutcome =
  | { ok: true; status: number }
  | {
      ok: false;
      status: number | null;
      error: string;
      /** Delay before the next attempt; null when this was the last one (the delivery fails). */
      retryInMs: number | null;
    };

/**
 * The `webhook_endpoint` and `webhook_delivery` tables: an owner's endpoints (every read and
 * write names the owner, so nobody reaches another's), the deliveries the bus consumer creates
 * for an event, and the claims, results and schedule of their attempts.
 */
export class WebhookRepository {
  constructor(readonly prisma: PrismaClient) {}

  async create(ownerId: string, input: { url: string; events: WebhookEventType[] }): Promise<WebhookEndpoint> {
    return this.prisma.webhookEndpoint.create({
      data: {
        id: randomUUID(),
        ownerId,
        url: input.url,
        events: [...new Set(input.events)],
        secret: newWebhookSecret(),
      },
    });
  }

  list(ownerId: string): Promise<WebhookEndpoint[]> {
    return this.prisma.webhookEndpoint.findMany({
      where: { ownerId },
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    });
  }

  get(ownerId: string, id: string): Promise<WebhookEndpoint | null> {
    if (!isUuid(id)) return Promise.resolve(null);
    return this.prisma.webhookEndpoint.findFirst({ where: { id, ownerId } });
  }

  async update(ownerId: string, id: string, changes: EndpointChanges): Promise<WebhookEndpoint | null> {
    if (!isUuid(id)) return null;
    return this.prisma.$transaction(async (tx) => {
      const data: Prisma.WebhookEndpointUpdateManyMutationInput = {};
      if (changes.url !== undefined) data.url = changes.url;
      if (changes.events !== undefined) data.events = [...new Set(changes.events)];
      if (changes.enabled === true) Object.assign(data, { disabledAt: null, disabledReason: null });
      if (changes.enabled === false)
        Object.assign(data, { disabledAt: new Date(), disabledReason: "Disabled by its owner" });
      const { count } = await tx.webhookEndpoint.updateMany({ where: { id, ownerId }, data });
      if (count === 0) return null;
      if (changes.enabled === true) {
        await tx.webhookDelivery.updateMany({
          where: { endpointId: id, status: "PENDING" },
          data: { nextAttemptAt: new Date() },
        });
      }
      return tx.webhookEndpoint.findUnique({ where: { id } });
    });
  }

  async remove(ownerId: string, id: string): Promise<boolean> {
    if (!isUuid(id)) return false;
    const { count } = await this.prisma.webhookEndpoint.deleteMany({ where: { id, ownerId } });
    return count > 0;
  }

  /**
   * One delivery per enabled endpoint of `ownerId` subscribed to the event's type; an event
   * seen again (the bus delivers at least once) adds nothing. Returns how many were added.
   */
  async fanOut(event: { id: string; type: WebhookEventType; videoId: string; ownerId: string; body: string }) {
    return this.prisma.$executeRaw(Prisma.sql`
      INSERT INTO webhook_delivery (endpoint_id, event_id, type, video_id, payload)
      SELECT id, ${event.id}, ${event.type}, ${event.videoId}, ${event.body}
        FROM webhook_endpoint
       WHERE owner_id = ${event.ownerId} AND disabled_at IS NULL AND ${event.type} = ANY(events)
       ORDER BY id
      ON CONFLICT (endpoint_id, event_id) DO NOTHING`);
  }

  /**
   * Claims up to `limit` due deliveries of enabled endpoints for `owner` during `leaseMs`. A
   * delivery waits while an older one of its endpoint and video is pending, so an endpoint
   * receives a video's events in order.
   */
  async claimDue(owner: string, limit: number, leaseMs: number): Promise<ClaimedDelivery[]> {
    const rows = await this.prisma.$queryRaw<ClaimedDelivery[]>(Prisma.sql`
      UPDATE webhook_delivery d
         SET claimed_by = ${owner},
             claimed_until = now() + make_interval(secs => ${leaseMs / 1000}::double precision)
        FROM webhook_endpoint e
       WHERE e.id = d.endpoint_id AND d.id IN (
         SELECT c.id FROM webhook_delivery c JOIN webhook_endpoint ce ON ce.id = c.endpoint_id
          WHERE c.status = 'PENDING' AND c.next_attempt_at <= now() AND ce.disabled_at IS NULL
            AND (c.claimed_until IS NULL OR c.claimed_until < now())
            AND NOT EXISTS (
              SELECT 1 FROM webhook_delivery older
               WHERE older.endpoint_id = c.endpoint_id AND older.video_id = c.video_id
                 AND older.status = 'PENDING' AND older.id < c.id)
          ORDER BY c.next_attempt_at, c.id
          LIMIT ${limit}
          FOR UPDATE OF c SKIP LOCKED)
      RETURNING d.id, d.event_id AS "eventId", d.payload, d.attempts, e.url, e.secret,
                d.endpoint_id::text AS "endpointId"`);
    return rows.sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  /** Instances holding a claim now. */
  async claimOwners(): Promise<string[]> {
    const rows = await this.prisma.webhookDelivery.findMany({
      where: { status: "PENDING", claimedUntil: { gt: new Date() }, claimedBy: { not: null } },
      select: { claimedBy: true },
      distinct: ["claimedBy"],
    });
    return rows.map((r) => r.claimedBy as string);
  }

  /** Ends the claims of `owner` (an instance known to be dead). */
  async releaseClaims(owner: string): Promise<number> {
    const { count } = await this.prisma.webhookDelivery.updateMany({
      where: { claimedBy: owner, status: "PENDING" },
      data: { claimedBy: null, claimedUntil: null },
    });
    return count;
  }

  /**
   * Records an attempt of a delivery `owner` claimed (nothing when the claim was lost meanwhile).
   * The last failed attempt fails the delivery and disables its endpoint, with the reason.
   */
  async recordAttempt(owner: string, delivery: ClaimedDelivery, outcome: AttemptOutcome): Promise<void> {
    const now = new Date();
    const mine = { id: delivery.id, claimedBy: owner, status: "PENDING" as const };
    const common = { attempts: { increment: 1 }, lastAttemptAt: now, claimedBy: null, claimedUntil: null };
    if (outcome.ok) {
      await this.prisma.webhookDelivery.updateMany({
        where: mine,
        data: { ...common, status: "DELIVERED", deliveredAt: now, lastStatusCode: outcome.status, lastError: null },
      });
      return;
    }
    const failure = { ...common, lastStatusCode: outcome.status, lastError: outcome.error.slice(0, 500) };
    if (outcome.retryInMs !== null) {
      await this.prisma.webhookDelivery.updateMany({
        where: mine,
        data: { ...failure, nextAttemptAt: new Date(now.getTime() + outcome.retryInMs) },
      });
      return;
    }
    await this.prisma.$transaction(async (tx) => {
      const { count } = await tx.webhookDelivery.updateMany({ where: mine, data: { ...failure, status: "FAILED" } });
      if (count === 0) return;
      const row = await tx.webhookDelivery.findUnique({ where: { id: delivery.id }, select: { createdAt: true } });
      const hours = row ? ((now.getTime() - row.createdAt.getTime()) / 3_600_000).toFixed(1) : "?";
      await tx.webhookEndpoint.updateMany({
        where: { id: delivery.endpointId, disabledAt: null },
        data: {
          disabledAt: now,
          disabledReason: `Disabled after ${delivery.attempts + 1} failed attempts over ${hours} h to deliver ${delivery.eventId} (last: ${outcome.error.slice(0, 200)}). Fix the endpoint, then enable it again: pending events are sent then, failed ones can be redelivered.`,
        },
      });
    });
  }

  /** An endpoint's deliveries, newest first, before the delivery id `before` when given. */
  deliveries(endpointId: string, options: { limit: number; before?: bigint }): Promise<WebhookDelivery[]> {
    return this.prisma.webhookDelivery.findMany({
      where: { endpointId, ...(options.before !== undefined ? { id: { lt: options.before } } : {}) },
      orderBy: { id: "desc" },
      take: options.limit,
    });
  }

  /** Sends a delivery again (same `webhook-id` and body) with a fresh schedule; null when it is not the endpoint's. */
  async redeliver(endpointId: string, deliveryId: bigint): Promise<WebhookDelivery | null> {
    const { count } = await this.prisma.webhookDelivery.updateMany({
      where: { id: deliveryId, endpointId },
      data: { status: "PENDING", attempts: 0, nextAttemptAt: new Date(), claimedBy: null, claimedUntil: null },
    });
    if (count === 0) return null;
    return this.prisma.webhookDelivery.findUnique({ where: { id: deliveryId } });
  }
}
