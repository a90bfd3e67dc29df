import { type Bus, type Config, KafkaBus, type Logger, QueueBus } from "@reelkit/core";
import type { Database } from "../db/database.js";
import { SqlJobStore } from "./sql-job-store.js";

export interface RuntimeBus {
  bus: Bus;
  /** Whether the bus still holds work for a video; null when it cannot tell (Kafka). */
  owns: ((videoId: string) => Promise<boolean>) | null;
}

/** The job queue in the catalog database (embedded default). */
export function createQueueBus(
  config: Pick<Config, "jobMaxAttempts" | "jobBackoffMs" | "jobLeaseMs">,
  db: Database,
  logger?: Logger,
): RuntimeBus {
  const store = new SqlJobStore(db.prisma);
  const bus = new QueueBus({
    store,
    logger: logger?.child({ name: "reelkit-bus" }),
    maxAttempts: config.jobMaxAttempts,
    backoffMs: config.jobBackoffMs,
    leaseMs: config.jobLeaseMs,
  });
  return { bus, owns: (videoId) => store.hasPending(videoId) };
}

/** Kafka when KAFKA_BROKERS is set, else the job queue in the catalog database. */
export function createRuntimeBus(config: Config, db: Database, logger?: Logger): RuntimeBus {
  if (config.kafkaBrokers.length === 0) return createQueueBus(config, db, logger);
  const bus = new KafkaBus({
    brokers: config.kafkaBrokers,
    partitions: config.kafkaPartitions,
    replicationFactor: config.kafkaReplicationFactor,
    prefix: config.kafkaTopicPrefix,
    maxAttempts: config.jobMaxAttempts,
    backoffMs: config.jobBackoffMs,
    logger: logger?.child({ name: "reelkit-bus" }),
  });
  return { bus, owns: null };
}
