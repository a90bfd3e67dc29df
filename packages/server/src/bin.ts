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
  let runtime: Awaited<ReturnType<typeof createEmbeddedRuntime>> | undefined;
  let idleMemory: ReturnType<typeof releaseMemoryWhenIdle> | undefined;
  // The embedded database died and its restarts failed: exit non-zero (after what can still be
  // stopped) so that systemd, Docker or Kubernetes start a fresh process.
  const onDatabaseLost = (err: Error) => {
    logger.fatal({ err }, "the embedded database is gone; exiting so that the process is restarted");
    if (runtime) shutdown("database lost", 1);
    else void lock.release().finally(() => process.exit(1));
  };
  try {
    runtime = await createEmbeddedRuntime(config, { logger, onDatabaseLost });
  } catch (err) {
    await lock.release();
    throw err;
  }
  const { app } = runtime;
  let closing = false;
  await app.listen({ port: config.port, host: config.host });
  // After a burst of work, the memory V8 grew for it goes back to the system (see idle-memory.ts).
  // Start-up is one (migrations, compiling Prisma's query compiler: ≈ 30 MB left behind), and it
  // is over now: give that back before the first request rather than after the first quiet spell.
  idleMemory = releaseMemoryWhenIdle({ logger });
  idleMemory.releaseNow();

  function shutdown(signal: string, exitCode = 0) {
    if (closing || !runtime) return;
    const closingRuntime = runtime;
    closing = true;
    idleMemory?.stop();
    const startedAt = Date.now();
    logger.info({ signal }, "shutting down");
    const timer = setTimeout(() => {
      logger.error(
        { signal, step: closingRuntime.closingStep, ms: Date.now() - startedAt },
        `forced exit: still ${closingRuntime.closingStep ?? "closing"} after ${FORCED_EXIT_MS / 1000} s`,
      );
      process.exit(1);
    }, FORCED_EXIT_MS);
    timer.unref();
    closingRuntime
      .close()
      .then(() => lock.release())
      .then(
        () => {
          logger.info({ ms: Date.now() - startedAt }, "stopped");
          process.exit(exitCode);
        },
        (err) => {
          logger.error({ err, step: closingRuntime.closingStep }, "shutdown failed");
          process.exit(1);
        },
      );
  }
  process.on("SIGINT", () => shutdown("SIGINT"));
  process.on("SIGTERM", () => shutdown("SIGTERM"));
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
