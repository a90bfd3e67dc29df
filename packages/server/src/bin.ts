#!/usr/bin/env node
import { createLogger, loadConfig } from "@reelkit/core";
import { lockDataDir } from "./data-dir-lock.js";
import { createEmbeddedRuntime } from "./runtime.js";

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const logger = createLogger(config, "reelkit-server");
  // Before anything touches the data directory: a second process on it refuses to start.
  const lock = await lockDataDir(config.dataDir);
  let runtime: Awaited<ReturnType<typeof createEmbeddedRuntime>>;
  try {
    runtime = await createEmbeddedRuntime(config, logger);
  } catch (err) {
    await lock.release();
    throw err;
  }
  const { app } = runtime;
  await app.listen({ port: config.port, host: config.host });

  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, "shutting down");
    // A hung close must still end the process.
    const timer = setTimeout(() => process.exit(1), 10_000);
    timer.unref();
    runtime
      .close()
      .then(() => lock.release())
      .then(
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
