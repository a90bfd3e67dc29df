import { type Metrics, metricsAccess } from "@reelkit/core";
import type { FastifyInstance } from "fastify";
import { errorBody } from "./errors.js";

/**
 * `GET /metrics` in Prometheus' text format, and the latency of every request by route template
 * (`/api/videos/:id`, never the raw URL, so the number of series stays bounded). Called on the
 * root instance, not registered as a plugin, so that the hook sees every route. Loopback clients
 * only, or every client with the bearer `token` (REELKIT_METRICS_TOKEN) when it is set; see
 * `metricsAccess`.
 */
export function registerMetrics(app: FastifyInstance, metrics: Metrics, token: string | null = null): void {
  app.addHook("onResponse", async (request, reply) => {
    const route = request.routeOptions.url ?? "unmatched";
    metrics.httpDuration.observe(
      { method: request.method, route, status_code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });
  // Prometheus' own text format, not JSON: kept out of the OpenAPI document like /media.
  app.get("/metrics", { schema: { hide: true } }, async (request, reply) => {
    // request.ip: the socket's address, or the forwarded one when trustProxy says to believe it.
    const access = metricsAccess(token, { remoteAddress: request.ip, authorization: request.headers.authorization });
    if (!access.allowed) {
      if (access.status === 401) reply.header("www-authenticate", 'Bearer realm="metrics"');
      reply.header("cache-control", "no-store");
      return reply.status(access.status).send(errorBody(access.code, access.message));
    }
    reply.header("Content-Type", metrics.registry.contentType);
    reply.header("Cache-Control", "no-store");
    return metrics.registry.metrics();
  });
}
