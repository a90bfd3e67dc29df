#!/usr/bin/env node
import { createLogger, loadConfig } from "@reelkit/core";
import { createEmbeddedRuntime } from "./runtime.js";

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const logger = createLogger(config, "reelkit-server");
  const runtime = await createEmbeddedRuntime(config, logger);
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
    runtime.close().then(
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
