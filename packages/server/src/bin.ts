#!/usr/bin/env node
import { createLogger, loadConfig } from "@reelkit/core";
import { lockDataDir } from "./data-dir-lock.js";
import { releaseMemoryWhenIdle } from "./idle-memory.js";
import { createEmbeddedRuntime } from "./runtime.js";

/** A graceful stop takes seconds; past this the process exits anyway and says what hung. */
const FORCED_EXIT_MS = 10_000;

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const logger = createLogger(config, "reelkit-server");
  // Before anything touches the data directory: a second process on it refuses to start.
  const lock = await lockDataDir(config.dataDir);
  let runtime: Awaited<ReturnType<typeof createEmbeddedRuntime>>;
  try {
    runtime = await createEmbeddedRuntime(config, { logger });
  } catch (err) {
    await lock.release();
    throw err;
  }
  const { app } = runtime;
  await app.listen({ port: config.port, host: config.host });
  // After a burst of work, the memory V8 grew for it goes back to the system (see idle-memory.ts).
  const idleMemory = releaseMemoryWhenIdle({ logger });

  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    idleMemory.stop();
    const started = Date.now();
    logger.info({ signal }, "shutting down");
    const timer = setTimeout(() => {
      logger.error(
        { signal, step: runtime.closingStep, ms: Date.now() - started },
        `forced exit: still ${runtime.closingStep ?? "closing"} after ${FORCED_EXIT_MS / 1000} s`,
      );
      process.exit(1);
    }, FORCED_EXIT_MS);
    timer.unref();
    runtime
      .close()
      .then(() => lock.release())
      .then(
        () => {
          logger.info({ ms: Date.now() - started }, "stopped");
          process.exit(0);
        },
        (err) => {
          logger.error({ err, step: runtime.closingStep }, "shutdown failed");
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
