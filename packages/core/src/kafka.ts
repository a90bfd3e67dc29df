// `@reelkit/core/kafka`: the bus on Apache Kafka. A subpath of its own so that importing
// `@reelkit/core` does not load the Kafka client; `kafkaBusFromConfig` loads it on demand.
export { DEAD_LETTER_TOPIC, KafkaBus, type KafkaBusOptions } from "./bus/kafka-bus.js";
