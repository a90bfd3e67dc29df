#!/usr/bin/env node
import {
  createLogger,
  createMetrics,
  createStorage,
  instrumentTranscoderBus,
  kafkaBusFromConfig,
  loadConfig,
} from "@reelkit/core";
import { healthServer } from "./health-server.js";
import { createTranscoder } from "./transcoder.js";

/** A graceful stop takes seconds; past this the process exits anyway and says what hung. */
const FORCED_EXIT_MS = 10_000;

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
  const server = healthServer({ bus, storage, metrics, metricsToken: config.metricsToken });
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
