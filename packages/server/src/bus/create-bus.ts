import { type Bus, type Config, kafkaBusFromConfig, type Logger, QueueBus } from "@reelkit/core";
import { PostgresChangeFeed } from "../db/change-feed.js";
import type { Database } from "../db/database.js";
import { JOB_CHANNEL, SqlJobStore } from "./sql-job-store.js";

export interface RuntimeBus {
  bus: Bus;
  /** Whether the bus still holds work for a video; null when it cannot tell (Kafka). */
  owns: ((videoId: string) => Promise<boolean>) | null;
}

/**
 * The job queue in the catalog database (embedded default). Consumers hear of jobs published by
 * other instances on the same database through LISTEN/NOTIFY (one connection), so none waits
 * for its poll; resolves once that connection listens (without it, consumers poll).
 */
export async function createQueueBus(
  config: Pick<Config, "jobMaxAttempts" | "jobBackoffMs" | "jobLeaseMs">,
  db: Database,
  logger?: Logger,
): Promise<RuntimeBus> {
  const store = new SqlJobStore(db.prisma);
  const log = logger?.child({ name: "reelkit-bus" });
  const wakeups = new PostgresChangeFeed(db.url, log, JOB_CHANNEL);
  await wakeups
    .start()
    .catch((err) => log?.warn({ err }, "could not listen for jobs yet; consumers poll for them until it does"));
  const bus = new QueueBus({
    store,
    logger: log,
    maxAttempts: config.jobMaxAttempts,
    backoffMs: config.jobBackoffMs,
    leaseMs: config.jobLeaseMs,
    wakeups,
  });
  return { bus, owns: (videoId) => store.hasPending(videoId) };
}

/** Kafka when KAFKA_BROKERS is set, else the job queue in the catalog database. */
export async function createRuntimeBus(config: Config, db: Database, logger?: Logger): Promise<RuntimeBus> {
  if (config.kafkaBrokers.length === 0) return createQueueBus(config, db, logger);
  return { bus: await kafkaBusFromConfig(config, logger), owns: null };
}
