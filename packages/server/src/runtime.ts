import {
  type Config,
  createLogger,
  createMetrics,
  createStorage,
  instrumentTranscoderBus,
  type Logger,
  type Storage,
} from "@reelkit/core";
import { createTranscoder, type Transcoder } from "@reelkit/transcoder";
import type { FastifyInstance } from "fastify";
import { buildApp } from "./app.js";
import { AuthService } from "./auth/auth-service.js";
import { resolveSecret } from "./auth/secret.js";
import { createRuntimeBus, type RuntimeBus } from "./bus/create-bus.js";
import { type Catalog, createCatalog } from "./catalog/catalog.js";
import { OutboxRepository } from "./catalog/outbox.js";
import { VideoCache } from "./catalog/video-cache.js";
import { type Database, openDatabase } from "./db/database.js";
import type { RestartPolicy } from "./db/restart-policy.js";
import { type ServerWork, startServerWork } from "./server-work.js";
import { PostgresLocker } from "./uploads/postgres-locker.js";
import { startWebhookWork } from "./webhooks/webhook-dispatcher.js";
import { WebhookRepository } from "./webhooks/webhook-repository.js";

export interface EmbeddedRuntime {
  app: FastifyInstance;
  db: Database;
  storage: Storage;
  catalog: Catalog;
  auth: AuthService;
  work: ServerWork;
  /** What `close()` is doing right now (for a forced exit's log line); null when not closing. */
  readonly closingStep: string | null;
  /**
   * Graceful stop: running transcodes are stopped and their jobs handed back, open SSE streams
   * and slow requests are ended, then the bus and the database are closed.
   */
  close(): Promise<void>;
}

/** How often pending view counts are written. */
const VIEW_FLUSH_MS = 5_000;

export interface RuntimeOptions {
  logger?: Logger;
  /** Builds the bus; Kafka with KAFKA_BROKERS, else the job queue in the catalog database. */
  createBus?: (config: Config, db: Database, logger: Logger) => Promise<RuntimeBus> | RuntimeBus;
  /** In-flight requests get this long to finish after a stop before their connections are closed. */
  requestGraceMs?: number;
  /**
   * The embedded database exited and could not be restarted: the process should exit non-zero
   * so that its service manager restarts it (see `bin.ts`).
   */
  onDatabaseLost?: (err: Error) => void;
  /** Restarts of the embedded database after an unexpected exit (default DEFAULT_RESTART_POLICY). */
  databaseRestart?: RestartPolicy | false;
}

/**
 * A reelkit-server process: HTTP app, outbox relay, event consumer and orphan sweep on one
 * database, plus the transcoder when `config.transcoder` is `inline` (the embedded default).
 * `bin.ts` listens on it; tests build it on a temporary data directory.
 */
export async function createEmbeddedRuntime(
  config: Config,
  options: RuntimeOptions | Logger = {},
): Promise<EmbeddedRuntime> {
  const opts: RuntimeOptions = "info" in options ? { logger: options as Logger } : (options as RuntimeOptions);
  const log = opts.logger ?? createLogger(config, "reelkit-server");
  const storage = await createStorage(config);
  const db = await openDatabase(config, log, {
    restart: opts.databaseRestart,
    onDatabaseLost: opts.onDatabaseLost,
  });
  const { bus, owns } = await (opts.createBus ?? createRuntimeBus)(config, db, log);
  const catalog = createCatalog(db.prisma, {
    cache: new VideoCache(),
    feed: db.changes,
    typeahead: { maxTitles: config.typeaheadMaxTitles, logger: log.child({ name: "typeahead" }) },
  });
  // In the background: until it is loaded, the database answers the typeahead.
  void catalog.queries.typeahead?.start();
  // View counts are written in batches; the last batch at shutdown.
  const flushViews = () =>
    catalog.queries.flushViews().catch((err: unknown) => log.warn({ err }, "writing view counts failed; retried"));
  const viewTimer = setInterval(flushViews, VIEW_FLUSH_MS);
  viewTimer.unref();
  const outbox = new OutboxRepository(db.prisma);
  // On PostgreSQL several instances may serve one upload: its lock lives in the database.
  // The embedded database serves one process (its data directory is locked to it): tus's
  // in-memory locker is enough there.
  const uploadLocker = config.databaseUrl
    ? new PostgresLocker({ connectionString: config.databaseUrl, logger: log.child({ name: "upload-locker" }) })
    : undefined;
  await uploadLocker?.start();
  const metrics = createMetrics({ process: "reelkit-server" });
  let transcoder: Transcoder | null = null;
  if (config.transcoder === "inline") {
    transcoder = createTranscoder({
      config,
      storage,
      bus: instrumentTranscoderBus(bus, metrics),
      logger: log.child({ name: "reelkit-transcoder" }),
    });
    await transcoder.start();
  }
  const work = await startServerWork({ config, catalog, outbox, bus, busOwns: owns, logger: log });
  const webhooks = new WebhookRepository(db.prisma);
  const webhookWork = await startWebhookWork({ config, webhooks, bus, logger: log.child({ name: "webhooks" }) });
  const auth = new AuthService({ config, prisma: db.prisma, secret: await resolveSecret(config), logger: log });
  const app = await buildApp({
    config,
    logger: log,
    storage,
    catalog,
    auth,
    bus,
    outbox,
    webhooks,
    uploadLocker,
    metrics,
    databaseState: db,
  });
  let closingStep: string | null = null;
  let closing: Promise<void> | null = null;
  const step = async (name: string, fn: () => Promise<unknown>) => {
    closingStep = name;
    await fn();
  };
  return {
    app,
    db,
    storage,
    catalog,
    auth,
    work,
    get closingStep() {
      return closingStep;
    },
    close() {
      closing ??= (async () => {
        // First the transcoder: ffmpeg stopped, its jobs handed back for the next worker.
        await step("stopping the transcoder", async () => transcoder?.stop());
        await step("closing HTTP connections", async () => {
          const grace = setTimeout(() => app.server.closeAllConnections(), opts.requestGraceMs ?? 2_000);
          grace.unref();
          await app.close();
          clearTimeout(grace);
        });
        await step("closing the upload locker", async () => uploadLocker?.close());
        await step("writing pending view counts", async () => {
          clearInterval(viewTimer);
          await flushViews();
        });
        await step("stopping the outbox relay and the event consumer", () => work.stop());
        await step("stopping webhook deliveries", () => webhookWork.stop());
        await step("closing the bus", () => bus.close());
        catalog.queries.typeahead?.close();
        await step("closing the database", () => db.close());
        closingStep = null;
      })();
      return closing;
    },
  };
}
