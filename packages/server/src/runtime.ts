import {
  type Config,
  createLogger,
  createMetrics,
  createStorage,
  InProcessBus,
  instrumentTranscoderBus,
  type Logger,
  type Storage,
} from "@reelkit/core";
import { createTranscoder } from "@reelkit/transcoder";
import type { FastifyInstance } from "fastify";
import { buildApp } from "./app.js";
import { AuthService } from "./auth/auth-service.js";
import { resolveSecret } from "./auth/secret.js";
import { CatalogService } from "./catalog/catalog-service.js";
import { OutboxRepository } from "./catalog/outbox.js";
import { type Database, openDatabase } from "./db/database.js";
import { PostgresLocker } from "./uploads/postgres-locker.js";

export interface EmbeddedRuntime {
  app: FastifyInstance;
  db: Database;
  storage: Storage;
  catalog: CatalogService;
  auth: AuthService;
  /** Stops accepting requests, aborts running transcodes (redelivered at next start), closes the database. */
  close(): Promise<void>;
}

/**
 * The embedded default: server, in-process bus and transcoder in one process, one database.
 * `bin.ts` listens on it; tests build it on a temporary data directory.
 */
export async function createEmbeddedRuntime(config: Config, logger?: Logger): Promise<EmbeddedRuntime> {
  const log = logger ?? createLogger(config, "reelkit-server");
  const storage = createStorage(config);
  const db = await openDatabase(config, log);
  const bus = new InProcessBus();
  const catalog = new CatalogService(db.prisma);
  // On PostgreSQL several instances may serve one upload: its lock lives in the database.
  // The embedded database serves one process (its data directory is locked to it): tus's
  // in-memory locker is enough there.
  const uploadLocker = config.databaseUrl
    ? new PostgresLocker({ connectionString: config.databaseUrl, logger: log.child({ name: "upload-locker" }) })
    : undefined;
  await uploadLocker?.start();
  // The transcoder subscribes before the relay starts, so redelivered outbox rows reach it.
  const metrics = createMetrics({ process: "reelkit-server" });
  const transcoder = createTranscoder({
    config,
    storage,
    bus: instrumentTranscoderBus(bus, metrics),
    logger: log.child({ name: "reelkit-transcoder" }),
  });
  await transcoder.start();
  const auth = new AuthService({ config, prisma: db.prisma, secret: await resolveSecret(config), logger: log });
  const app = await buildApp({
    config,
    logger: log,
    storage,
    catalog,
    auth,
    bus,
    outbox: new OutboxRepository(db.prisma),
    uploadLocker,
    metrics,
  });
  return {
    app,
    db,
    storage,
    catalog,
    auth,
    async close() {
      await app.close();
      await uploadLocker?.close();
      await transcoder.stop();
      await bus.close();
      await db.close();
    },
  };
}
