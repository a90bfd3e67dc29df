import type { Metrics } from "@reelkit/core";
import type { FastifyInstance } from "fastify";

/**
 * `GET /metrics` in Prometheus' text format, and the latency of every request by route template
 * (`/api/videos/:id`, never the raw URL, so the number of series stays bounded). Called on the
 * root instance, not registered as a plugin, so that the hook sees every route.
 */
export function registerMetrics(app: FastifyInstance, metrics: Metrics): void {
  app.addHook("onResponse", async (request, reply) => {
    const route = request.routeOptions.url ?? "unmatched";
    metrics.httpDuration.observe(
      { method: request.method, route, status_code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });
  // Prometheus' own text format, not JSON: kept out of the OpenAPI document like /media.
  app.get("/metrics", { schema: { hide: true } }, async (_request, reply) => {
    reply.header("Content-Type", metrics.registry.contentType);
    reply.header("Cache-Control", "no-store");
    return metrics.registry.metrics();
  });
}
