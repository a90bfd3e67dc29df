import type { Logger } from "pino";
import type { Config } from "../config.js";
import type { KafkaBus } from "./kafka-bus.js";

/**
 * The KafkaBus a Reelkit process runs on: brokers, topics and delivery policy from its config.
 * The Kafka client is loaded here, on first use: a process without `KAFKA_BROKERS` (the embedded
 * default) never loads it.
 */
export async function kafkaBusFromConfig(config: Config, logger?: Logger): Promise<KafkaBus> {
  const { KafkaBus } = await import("./kafka-bus.js");
  return new KafkaBus({
    brokers: config.kafkaBrokers,
    partitions: config.kafkaPartitions,
    replicationFactor: config.kafkaReplicationFactor,
    prefix: config.kafkaTopicPrefix,
    maxAttempts: config.jobMaxAttempts,
    backoffMs: config.jobBackoffMs,
    logger: logger?.child({ name: "reelkit-bus" }),
  });
}
