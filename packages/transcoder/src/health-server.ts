import http from "node:http";
import { type Bus, type Metrics, metricsAccess, notReadyMessage, readinessProbe, type Storage } from "@reelkit/core";

function json(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store" });
  res.end(JSON.stringify(body));
}

export interface HealthServerOptions {
  bus: Bus;
  storage: Storage;
  metrics: Metrics;
  /** REELKIT_METRICS_TOKEN; null: `/metrics` answers loopback clients only. */
  metricsToken: string | null;
}

/**
 * `/healthz` (the process is up), `/readyz` (the bus answers, storage accepts a write; the result
 * is reused for a few seconds) and `/metrics` (Prometheus: jobs by outcome, job duration, queue
 * wait, process; loopback clients only, or the bearer REELKIT_METRICS_TOKEN when it is set).
 */
export function healthServer({ bus, storage, metrics, metricsToken }: HealthServerOptions): http.Server {
  // Reused for a few seconds, so frequent probes do not write to storage each time.
  const probe = readinessProbe({
    bus: () => bus.ping(),
    storage: () => storage.put("health/readyz-transcoder", "ok"),
  });
  return http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (req.method !== "GET" && req.method !== "HEAD") {
      return json(res, 405, { error: { code: "METHOD_NOT_ALLOWED", message: "Only GET is supported." } });
    }
    if (url.pathname === "/healthz") return json(res, 200, { status: "ok" });
    if (url.pathname === "/metrics") {
      const access = metricsAccess(metricsToken, {
        remoteAddress: req.socket.remoteAddress,
        authorization: req.headers.authorization,
      });
      if (!access.allowed) {
        if (access.status === 401) res.setHeader("WWW-Authenticate", 'Bearer realm="metrics"');
        return json(res, access.status, { error: { code: access.code, message: access.message } });
      }
      void metrics.registry.metrics().then(
        (body) => {
          res.writeHead(200, { "Content-Type": metrics.registry.contentType, "Cache-Control": "no-store" });
          res.end(body);
        },
        (err: unknown) =>
          json(res, 500, { error: { code: "METRICS_FAILED", message: `Metrics failed: ${String(err)}` } }),
      );
      return;
    }
    if (url.pathname !== "/readyz") return json(res, 404, { error: { code: "NOT_FOUND", message: "Not found." } });
    void probe().then((results) => {
      const notReady = notReadyMessage(results);
      if (notReady !== null) return json(res, 503, { error: { code: "NOT_READY", message: notReady } });
      json(res, 200, { status: "ok", checks: Object.fromEntries(results.map((r) => [r.name, "ok"])) });
    });
  });
}
