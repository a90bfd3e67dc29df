import http from "node:http";
import { type Bus, type Metrics, metricsAccess, type Storage } from "@reelkit/core";

function json(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store" });
  res.end(JSON.stringify(body));
}

const CHECK_TIMEOUT_MS = 3_000;
/** `/readyz` reuses its result this long, so frequent probes do not write to storage each time. */
const READY_CACHE_MS = 5_000;

type CheckResult = { name: string; error: string | null };

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
  const checks: Record<string, () => Promise<unknown>> = {
    bus: () => bus.ping(),
    storage: () => storage.put("health/readyz-transcoder", "ok"),
  };
  const probe = (): Promise<CheckResult[]> =>
    Promise.all(
      Object.entries(checks).map(async ([name, check]) => {
        let timer: NodeJS.Timeout | undefined;
        try {
          await Promise.race([
            check(),
            new Promise((_, reject) => {
              timer = setTimeout(
                () => reject(new Error(`did not answer within ${CHECK_TIMEOUT_MS} ms`)),
                CHECK_TIMEOUT_MS,
              );
            }),
          ]);
          return { name, error: null };
        } catch (err) {
          return { name, error: err instanceof Error ? err.message : String(err) };
        } finally {
          clearTimeout(timer);
        }
      }),
    );
  let last: { at: number; results: Promise<CheckResult[]> } | null = null;
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
    const now = Date.now();
    if (!last || now - last.at >= READY_CACHE_MS) last = { at: now, results: probe() };
    void last.results.then((results) => {
      const failed = results.filter((r) => r.error !== null);
      if (failed.length > 0) {
        const message = failed.map((r) => `${r.name}: ${r.error}`).join("; ");
        return json(res, 503, { error: { code: "NOT_READY", message: `Not ready (${message})` } });
      }
      json(res, 200, { status: "ok", checks: Object.fromEntries(results.map((r) => [r.name, "ok"])) });
    });
  });
}
