import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { Config } from "@reelkit/core";
import {
  CreatedWebhookEndpoint,
  CreateWebhookBody,
  ErrorBody,
  UpdateWebhookBody,
  VideoParams,
  WebhookDeliveriesQuery,
  type WebhookDelivery,
  WebhookDeliveryList,
  WebhookDeliveryParams,
  WebhookDelivery as WebhookDeliverySchema,
  type WebhookEndpoint,
  WebhookEndpointList,
  WebhookEndpoint as WebhookEndpointSchema,
  type WebhookEventType,
} from "@reelkit/sdk/contract";
import { Type } from "@sinclair/typebox";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { AuthService } from "../auth/auth-service.js";
import { checkWebhookUrl, WebhookUrlRefused } from "../webhooks/address-guard.js";
import type {
  WebhookDelivery as DeliveryRow,
  WebhookEndpoint as EndpointRow,
  WebhookRepository,
} from "../webhooks/webhook-repository.js";
import { errors } from "./errors.js";

export interface WebhookRoutesOptions {
  config: Pick<Config, "webhookAllowPrivate">;
  auth: AuthService;
  webhooks: WebhookRepository;
}

function toEndpoint(e: EndpointRow): WebhookEndpoint {
  return {
    id: e.id,
    url: e.url,
    events: e.events as WebhookEventType[],
    enabled: e.disabledAt === null,
    disabledReason: e.disabledReason,
    disabledAt: e.disabledAt?.toISOString() ?? null,
    createdAt: e.createdAt.toISOString(),
    updatedAt: e.updatedAt.toISOString(),
  };
}

function toDelivery(d: DeliveryRow): WebhookDelivery {
  let payload: unknown = null;
  try {
    payload = JSON.parse(d.payload);
  } catch {
    payload = d.payload;
  }
  return {
    id: String(d.id),
    webhookId: d.eventId,
    type: d.type as WebhookEventType,
    videoId: d.videoId,
    status: d.status,
    attempts: d.attempts,
    nextAttemptAt: d.status === "PENDING" ? d.nextAttemptAt.toISOString() : null,
    lastAttemptAt: d.lastAttemptAt?.toISOString() ?? null,
    lastStatusCode: d.lastStatusCode,
    lastError: d.lastError,
    createdAt: d.createdAt.toISOString(),
    deliveredAt: d.deliveredAt?.toISOString() ?? null,
    payload,
  };
}

const DELIVERY_ID = /^[0-9]{1,19}$/;

/**
 * `/api/webhooks`: a user's webhook endpoints (create, list, get, update, delete), their
 * delivery log and redelivery. A session, its JWT or an API key acts for its user; everyone
 * sees and changes only their own endpoints (another's is a 404).
 */
export async function webhookRoutes(app: FastifyInstance, opts: WebhookRoutesOptions): Promise<void> {
  const { auth, webhooks, config } = opts;
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  app.addHook("onRequest", async (_request, reply) => {
    reply.header("Cache-Control", "no-store");
  });

  const owner = async (request: FastifyRequest): Promise<string> => {
    const caller = await auth.require(request);
    if (caller.kind !== "user") throw errors.forbidden("Webhooks are managed with a session or an API key");
    return caller.userId;
  };
  const checkUrl = async (url: string) => {
    try {
      return (await checkWebhookUrl(url, config.webhookAllowPrivate)).toString();
    } catch (err) {
      if (err instanceof WebhookUrlRefused) throw errors.webhookUrlRefused(err.message);
      throw err;
    }
  };
  const endpointOf = async (request: FastifyRequest, id: string) => {
    const endpoint = await webhooks.get(await owner(request), id);
    if (!endpoint) throw errors.notFound("No such webhook endpoint");
    return endpoint;
  };

  r.post(
    "/api/webhooks",
    {
      schema: {
        summary: "Register a webhook endpoint; its signing secret is in this response only",
        body: CreateWebhookBody,
        response: { 201: CreatedWebhookEndpoint, 400: ErrorBody, 401: ErrorBody, 403: ErrorBody },
      },
    },
    async (request, reply) => {
      const userId = await owner(request);
      const url = await checkUrl(request.body.url);
      const endpoint = await webhooks.create(userId, { url, events: request.body.events as WebhookEventType[] });
      return reply.status(201).send({ ...toEndpoint(endpoint), secret: endpoint.secret });
    },
  );

  r.get(
    "/api/webhooks",
    {
      schema: {
        summary: "The caller's webhook endpoints (never their secrets), newest first",
        response: { 200: WebhookEndpointList, 401: ErrorBody, 403: ErrorBody },
      },
    },
    async (request) => ({ items: (await webhooks.list(await owner(request))).map(toEndpoint) }),
  );

  r.get(
    "/api/webhooks/:id",
    {
      schema: {
        summary: "One of the caller's webhook endpoints; `disabledReason` says why deliveries stopped",
        params: VideoParams,
        response: { 200: WebhookEndpointSchema, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody },
      },
    },
    async (request) => toEndpoint(await endpointOf(request, request.params.id)),
  );

  r.patch(
    "/api/webhooks/:id",
    {
      schema: {
        summary: "Change an endpoint's URL or events, or disable/enable it (enabling sends what is pending)",
        params: VideoParams,
        body: UpdateWebhookBody,
        response: { 200: WebhookEndpointSchema, 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody },
      },
    },
    async (request) => {
      const userId = await owner(request);
      const body = request.body;
      const url = body.url === undefined ? undefined : await checkUrl(body.url);
      const endpoint = await webhooks.update(userId, request.params.id, {
        url,
        events: body.events as WebhookEventType[] | undefined,
        enabled: body.enabled,
      });
      if (!endpoint) throw errors.notFound("No such webhook endpoint");
      return toEndpoint(endpoint);
    },
  );

  r.delete(
    "/api/webhooks/:id",
    {
      schema: {
        summary: "Delete a webhook endpoint and its delivery log",
        params: VideoParams,
        response: { 204: Type.Null(), 401: ErrorBody, 403: ErrorBody, 404: ErrorBody },
      },
    },
    async (request, reply) => {
      if (!(await webhooks.remove(await owner(request), request.params.id))) {
        throw errors.notFound("No such webhook endpoint");
      }
      return reply.status(204).send(null);
    },
  );

  r.get(
    "/api/webhooks/:id/deliveries",
    {
      schema: {
        summary: "An endpoint's delivery log, newest first: each event, its status and attempts",
        params: VideoParams,
        querystring: WebhookDeliveriesQuery,
        response: { 200: WebhookDeliveryList, 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody },
      },
    },
    async (request) => {
      const endpoint = await endpointOf(request, request.params.id);
      const limit = request.query.limit ?? 50;
      const before = request.query.before === undefined ? undefined : BigInt(request.query.before);
      const rows = await webhooks.deliveries(endpoint.id, { limit: limit + 1, before });
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return { items: page.map(toDelivery), nextCursor: rows.length > limit && last ? String(last.id) : null };
    },
  );

  r.post(
    "/api/webhooks/:id/deliveries/:deliveryId/redeliver",
    {
      schema: {
        summary: "Send a delivery again, with the same webhook-id and body and a fresh retry schedule",
        params: WebhookDeliveryParams,
        response: {
          202: WebhookDeliverySchema,
          401: ErrorBody,
          403: ErrorBody,
          404: ErrorBody,
          409: ErrorBody,
        },
      },
    },
    async (request, reply) => {
      const endpoint = await endpointOf(request, request.params.id);
      if (!DELIVERY_ID.test(request.params.deliveryId)) throw errors.notFound("No such delivery");
      if (endpoint.disabledAt !== null) throw errors.webhookDisabled();
      const delivery = await webhooks.redeliver(endpoint.id, BigInt(request.params.deliveryId));
      if (!delivery) throw errors.notFound("No such delivery");
      return reply.status(202).send(toDelivery(delivery));
    },
  );
}
