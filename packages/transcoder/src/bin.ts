#!/usr/bin/env node
import http from "node:http";
import {
  type Bus,
  createLogger,
  createMetrics,
  createStorage,
  instrumentTranscoderBus,
  kafkaBusFromConfig,
  loadConfig,
  type Metrics,
  type Storage,
} from "@reelkit/core";
import { createTranscoder } from "./transcoder.js";

/** A graceful stop takes seconds; past this the process exits anyway and says what hung. */
const FORCED_EXIT_MS = 10_000;
const CHECK_TIMEOUT_MS = 3_000;

function json(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store" });
  res.end(JSON.stringify(body));
}

/**
 * `/healthz` (the process is up), `/readyz` (the bus answers, storage accepts a write) and
 * `/metrics` (Prometheus: jobs by outcome, job duration, queue wait, process).
 */
function healthServer(bus: Bus, storage: Storage, metrics: Metrics): http.Server {
  const checks: Record<string, () => Promise<unknown>> = {
    bus: () => bus.ping(),
    storage: () => storage.put("health/readyz-transcoder", "ok"),
  };
  return http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (req.method !== "GET" && req.method !== "HEAD") {
      return json(res, 405, { error: { code: "METHOD_NOT_ALLOWED", message: "Only GET is supported." } });
    }
    if (url.pathname === "/healthz") return json(res, 200, { status: "ok" });
    if (url.pathname === "/metrics") {
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
    void Promise.all(
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
    ).then((results) => {
      const failed = results.filter((r) => r.error !== null);
      if (failed.length > 0) {
        const message = failed.map((r) => `${r.name}: ${r.error}`).join("; ");
        return json(res, 503, { error: { code: "NOT_READY", message: `Not ready (${message})` } });
      }
      json(res, 200, { status: "ok", checks: Object.fromEntries(results.map((r) => [r.name, "ok"])) });
    });
  });
}

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const logger = createLogger(config, "reelkit-transcoder");
  if (config.kafkaBrokers.length === 0) {
    throw new Error("KAFKA_BROKERS: reelkit-transcoder consumes from Kafka; set the brokers (host:port,…)");
  }
  const storage = await createStorage(config);
  const bus = await kafkaBusFromConfig(config, logger);
  const metrics = createMetrics({ process: "reelkit-transcoder" });
  const transcoder = createTranscoder({ config, storage, bus: instrumentTranscoderBus(bus, metrics), logger });
  await transcoder.start();
  const server = healthServer(bus, storage, metrics);
  await new Promise<void>((resolve) => server.listen(config.port, config.host, resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : config.port;
  logger.info(`Transcoder listening at http://${config.host}:${port}`);

  let step: string | null = null;
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    const started = Date.now();
    logger.info({ signal }, "shutting down");
    const timer = setTimeout(() => {
      logger.error({ signal, step }, `forced exit: still ${step ?? "closing"} after ${FORCED_EXIT_MS / 1000} s`);
      process.exit(1);
    }, FORCED_EXIT_MS);
    timer.unref();
    (async () => {
      step = "stopping the transcoder";
      await transcoder.stop();
      step = "closing the bus";
      await bus.close();
      step = "closing the health server";
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    })().then(
      () => {
        logger.info({ ms: Date.now() - started }, "stopped");
        process.exit(0);
      },
      (err) => {
        logger.error({ err, step }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", () => shutdown("SIGINT"));
  process.on("SIGTERM", () => shutdown("SIGTERM"));
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
