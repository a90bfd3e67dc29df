export * from "./bus/bus.js";
export * from "./bus/delivery-ledger.js";
export * from "./bus/delivery-policy.js";
export * from "./bus/fair-schedule.js";
export * from "./bus/job-store.js";
export type { KafkaBus, KafkaBusOptions } from "./bus/kafka-bus.js";
// The Kafka client and the AWS SDK load only when configured: their classes are in
// `@reelkit/core/kafka` and `@reelkit/core/s3`; kafkaBusFromConfig and createStorage import them
// on demand.
export { kafkaBusFromConfig } from "./bus/kafka-bus-factory.js";
export { MemoryJobStore } from "./bus/memory-job-store.js";
export * from "./bus/owner-id.js";
export { QueueBus, type QueueBusOptions } from "./bus/queue-bus.js";
export * from "./config.js";
export * from "./events.js";
export * from "./logger.js";
export * from "./metrics.js";
export * from "./metrics-access.js";
export * from "./readiness.js";
export * from "./storage/index.js";
