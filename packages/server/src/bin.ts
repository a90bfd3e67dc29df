#!/usr/bin/env node
import {
  type Bus,
  type Config,
  createLogger,
  createStorage,
  InProcessBus,
  type Logger,
  loadConfig,
  type Storage,
} from "@reelkit/core";
import { buildApp } from "./app.js";
import { CatalogService } from "./catalog/catalog-service.js";
import { OutboxRepository } from "./catalog/outbox.js";
import { openDatabase } from "./db/database.js";

interface EmbeddedTranscoder {
  start?(): Promise<void> | void;
  close?(): Promise<void> | void;
  stop?(): Promise<void> | void;
}

/**
 * Embedded mode: runs the transcoder in this process when @reelkit/transcoder is available.
 * Imported by a computed name so the server neither builds nor type-checks against it.
 */
async function startEmbeddedTranscoder(deps: {
  config: Config;
  storage: Storage;
  bus: Bus;
  logger: Logger;
}): Promise<EmbeddedTranscoder | null> {
  const name = "@reelkit/transcoder";
  let mod: { createTranscoder?: (d: typeof deps) => Promise<EmbeddedTranscoder> | EmbeddedTranscoder };
  try {
    mod = await import(name);
  } catch (err) {
    deps.logger.warn({ err }, "@reelkit/transcoder not available: uploads stay QUEUED until a transcoder runs");
    return null;
  }
  if (typeof mod.createTranscoder !== "function") {
    deps.logger.warn("@reelkit/transcoder has no createTranscoder(): not starting an embedded transcoder");
    return null;
  }
  const transcoder = await mod.createTranscoder({ ...deps, logger: deps.logger.child({ name: "reelkit-transcoder" }) });
  await transcoder.start?.();
  return transcoder;
}

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const logger = createLogger(config, "reelkit-server");
  const storage = createStorage(config);
  const db = await openDatabase(config, logger);
  const bus = new InProcessBus();
  const catalog = new CatalogService(db.prisma);
  // The transcoder subscribes before the relay starts, so redelivered outbox rows reach it.
  const transcoder = await startEmbeddedTranscoder({ config, storage, bus, logger });
  const app = await buildApp({ config, logger, storage, catalog, bus, outbox: new OutboxRepository(db.prisma) });
  await app.listen({ port: config.port, host: config.host });

  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, "shutting down");
    // A hung close must still end the process.
    const timer = setTimeout(() => process.exit(1), 10_000);
    timer.unref();
    (async () => {
      await app.close();
      await (transcoder?.close ?? transcoder?.stop)?.call(transcoder);
      await bus.close();
      await db.close();
    })().then(
      () => process.exit(0),
      (err) => {
        logger.error({ err }, "shutdown failed");
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
