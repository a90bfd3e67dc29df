import {
  Admin,
  Consumer,
  type Message,
  type MessagesStream,
  Producer,
  stringDeserializers,
  stringSerializers,
} from "@platformatic/kafka";
import type { Logger } from "pino";
import {
  type BusMessage,
  type EventPayloads,
  type Handler,
  type HandlerMap,
  TOPICS,
  type Topic,
  validatePayload,
} from "../events.js";
import type { Bus, SubscribeOptions } from "./bus.js";
import { DEFAULT_DELIVERY_POLICY, type DeliveryPolicy, errorText, retryDelayMs, sleep } from "./delivery-policy.js";
import { newOwnerId } from "./owner-id.js";

export interface KafkaBusOptions extends Partial<DeliveryPolicy> {
  brokers: string[];
  /** Partitions of the topics this bus creates when they are missing. */
  partitions?: number;
  replicationFactor?: number;
  /** Prepended to every topic and group name (isolates test runs on one broker). */
  prefix?: string;
  logger?: Logger;
  /** A consumer that misses heartbeats this long leaves the group; its partitions go to others. */
  sessionTimeoutMs?: number;
}

/** Where messages are parked after their last failed attempt. */
export const DEAD_LETTER_TOPIC = "reelkit.dead-letter";

type StringMessage = Message<string, string, string, string>;

interface Member {
  consumer: Consumer<string, string, string, string> | null;
  stream: MessagesStream<string, string, string, string> | null;
  current: AbortController | null;
  loop: Promise<void>;
}

interface Group {
  name: string;
  topics: Topic[];
  members: Member[];
  stopping: boolean;
  /** Aborted on unsubscribe: ends backoff waits at once. */
  stop: AbortController;
}

class Stopping extends Error {}

/**
 * The bus on Apache Kafka (`@platformatic/kafka`). Messages are keyed by video id, so one
 * video's events stay in order on one partition; the producer is idempotent and waits for every
 * in-sync replica. Each subscribed group runs `concurrency` consumers in the Kafka consumer
 * group; each handles its partitions one message at a time and commits an offset only after
 * the handler resolved, so a crash or a rebalance redelivers unfinished work. Failures are
 * retried in place with backoff, then the message goes to the dead-letter topic.
 */
export class KafkaBus implements Bus {
  readonly #opts: KafkaBusOptions;
  readonly #policy: DeliveryPolicy;
  readonly #log: Logger | undefined;
  readonly #clientId = `reelkit-${newOwnerId().replace(/:/g, "-")}`;
  readonly #groups = new Map<string, Group>();
  #producer: Producer<string, string, string, string> | null = null;
  #topicsReady: Promise<void> | null = null;
  #closed = false;

  constructor(opts: KafkaBusOptions) {
    this.#opts = opts;
    this.#log = opts.logger;
    this.#policy = {
      maxAttempts: opts.maxAttempts ?? DEFAULT_DELIVERY_POLICY.maxAttempts,
      backoffMs: opts.backoffMs ?? DEFAULT_DELIVERY_POLICY.backoffMs,
      maxBackoffMs: opts.maxBackoffMs ?? DEFAULT_DELIVERY_POLICY.maxBackoffMs,
    };
  }

  /** The Kafka topic of a catalogue topic (or of the dead-letter topic). */
  topicName(topic: string): string {
    return `${this.#opts.prefix ?? ""}${topic}`;
  }

  #base() {
    return {
      clientId: this.#clientId,
      bootstrapBrokers: this.#opts.brokers,
      retries: 5,
      retryDelay: 500,
      timeout: 10_000,
    };
  }

  /** Creates the catalogue's topics and the dead-letter topic when missing. */
  ensureTopics(): Promise<void> {
    this.#topicsReady ??= (async () => {
      const admin = new Admin(this.#base());
      try {
        const wanted = [...TOPICS, DEAD_LETTER_TOPIC].map((t) => this.topicName(t));
        const existing = new Set(await admin.listTopics());
        const missing = wanted.filter((t) => !existing.has(t));
        if (missing.length > 0) {
          try {
            await admin.createTopics({
              topics: missing,
              partitions: this.#opts.partitions ?? 6,
              replicas: this.#opts.replicationFactor ?? 1,
            });
            this.#log?.info({ topics: missing }, "created Kafka topics");
          } catch (err) {
            // Another instance created them at the same time.
            const now = new Set(await admin.listTopics());
            if (missing.some((t) => !now.has(t))) throw err;
          }
        }
      } finally {
        await admin.close();
      }
    })().catch((err) => {
      this.#topicsReady = null;
      throw err;
    });
    return this.#topicsReady;
  }

  #getProducer(): Producer<string, string, string, string> {
    this.#producer ??= new Producer({
      ...this.#base(),
      idempotent: true,
      acks: -1,
      serializers: stringSerializers,
      autocreateTopics: false,
    });
    return this.#producer;
  }

  async publish<T extends Topic>(topic: T, payload: EventPayloads[T], key?: string): Promise<void> {
    if (this.#closed) throw new Error("bus is closed");
    validatePayload(topic, payload);
    await this.ensureTopics();
    await this.#getProducer().send({
      messages: [{ topic: this.topicName(topic), key: key ?? payload.videoId, value: JSON.stringify(payload) }],
    });
  }

  async subscribe(group: string, handlers: HandlerMap, options: SubscribeOptions = {}): Promise<void> {
    if (this.#closed) throw new Error("bus is closed");
    if (this.#groups.has(group)) throw new Error(`group ${group} is already subscribed`);
    await this.ensureTopics();
    const topics = Object.keys(handlers) as Topic[];
    const g: Group = { name: group, topics, members: [], stopping: false, stop: new AbortController() };
    this.#groups.set(group, g);
    const count = Math.max(1, options.concurrency ?? 1);
    for (let i = 0; i < count; i++) g.members.push(await this.#startMember(g, handlers, options));
  }

  async #startMember(g: Group, handlers: HandlerMap, options: SubscribeOptions): Promise<Member> {
    const member: Member = { consumer: null, stream: null, current: null, loop: Promise.resolve() };
    await this.#connect(g, member);
    member.loop = (async () => {
      // A consumer that fails (the brokers were unreachable longer than its retries) is replaced:
      // the group rebalances and delivery resumes from the committed offsets.
      for (let failures = 0; !g.stopping; ) {
        try {
          if (!member.stream) await this.#connect(g, member);
          for await (const message of member.stream as MessagesStream<string, string, string, string>) {
            if (g.stopping) break;
            failures = 0;
            await this.#handle(g, member, message, handlers, options);
            if (g.stopping) break;
          }
          if (g.stopping) break;
          throw new Error("the message stream ended");
        } catch (err) {
          if (g.stopping) break;
          failures++;
          this.#log?.warn({ err, group: g.name }, "Kafka consumer failed; reconnecting");
          await this.#disconnect(member);
          await sleep(Math.min(10_000, 500 * 2 ** Math.min(failures, 5)), g.stop.signal);
        }
      }
    })();
    return member;
  }

  async #connect(g: Group, member: Member): Promise<void> {
    const consumer = new Consumer({
      ...this.#base(),
      groupId: `${this.#opts.prefix ?? ""}${g.name}`,
      deserializers: stringDeserializers,
      autocommit: false,
      sessionTimeout: this.#opts.sessionTimeoutMs ?? 10_000,
      heartbeatInterval: Math.min(3_000, Math.floor((this.#opts.sessionTimeoutMs ?? 10_000) / 3)),
      rebalanceTimeout: 30_000,
    });
    member.consumer = consumer;
    try {
      member.stream = await consumer.consume({
        topics: g.topics.map((t) => this.topicName(t)),
        mode: "committed",
        fallbackMode: "earliest",
        autocommit: false,
        maxWaitTime: 500,
      });
    } catch (err) {
      await this.#disconnect(member);
      throw err;
    }
  }

  async #disconnect(member: Member): Promise<void> {
    const { consumer, stream } = member;
    member.stream = null;
    member.consumer = null;
    await stream?.close().catch(() => {});
    await consumer?.close(true).catch((err) => this.#log?.warn({ err }, "could not close a Kafka consumer"));
  }

  async #handle(
    g: Group,
    member: Member,
    message: StringMessage,
    handlers: HandlerMap,
    options: SubscribeOptions,
  ): Promise<void> {
    const prefix = this.#opts.prefix ?? "";
    const topic = message.topic.slice(prefix.length) as Topic;
    const log = this.#log?.child({
      group: g.name,
      topic,
      key: message.key,
      partition: message.partition,
      offset: String(message.offset),
    });
    let payload: EventPayloads[Topic];
    try {
      payload = validatePayload(topic, JSON.parse(message.value));
    } catch (err) {
      log?.error({ err }, "parked a message that does not match its schema");
      await this.#deadLetter(message, errorText(err), 0);
      return this.#commit(message, log);
    }
    const handler = handlers[topic] as Handler<Topic>;
    for (let attempt = 1; ; attempt++) {
      const ctrl = new AbortController();
      member.current = ctrl;
      try {
        await handler(payload, { signal: ctrl.signal, deliveryAttempt: attempt });
        member.current = null;
        return this.#commit(message, log);
      } catch (err) {
        member.current = null;
        // Not committed: the next member of the group gets the message.
        if (g.stopping) return log?.info("handed the job back (stopping)");
        if (attempt >= this.#policy.maxAttempts) {
          const error = errorText(err);
          log?.error({ error, attempts: attempt }, "parked a message after its last failed attempt");
          await this.#deadLetter(message, error, attempt);
          await options.onParked?.({ topic, key: message.key, payload } as BusMessage, error);
          return this.#commit(message, log);
        }
        const delay = retryDelayMs(this.#policy, attempt);
        log?.warn({ err, retryInMs: delay }, "handler failed; the message will be retried");
        const stop = new AbortController();
        member.current = stop;
        const waited = await sleep(delay, stop.signal);
        member.current = null;
        if (!waited || g.stopping) return log?.info("handed the job back (stopping)");
      }
    }
  }

  async #deadLetter(message: StringMessage, error: string, attempts: number): Promise<void> {
    // Retried until the broker takes it: a parked message must not be lost.
    for (let i = 0; ; i++) {
      try {
        await this.#getProducer().send({
          messages: [
            {
              topic: this.topicName(DEAD_LETTER_TOPIC),
              key: message.key,
              value: message.value,
              headers: new Map([
                ["reelkit-topic", message.topic],
                ["reelkit-error", error],
                ["reelkit-attempts", String(attempts)],
              ]),
            },
          ],
        });
        return;
      } catch (err) {
        this.#log?.warn({ err }, "could not write to the dead-letter topic; retrying");
        await sleep(Math.min(10_000, 500 * 2 ** i));
      }
    }
  }

  async #commit(message: StringMessage, log: Logger | undefined): Promise<void> {
    try {
      await message.commit();
    } catch (err) {
      // A rebalance took the partition: the message will be delivered again (at-least-once).
      log?.warn({ err }, "could not commit an offset");
    }
  }

  async unsubscribe(group: string): Promise<void> {
    const g = this.#groups.get(group);
    if (!g) return;
    g.stopping = true;
    g.stop.abort();
    for (const m of g.members) m.current?.abort(new Stopping("the consumer is stopping"));
    await Promise.all(
      g.members.map(async (m) => {
        // Leaving the group hands the uncommitted message to the remaining members at once.
        await m.stream?.close().catch(() => {});
        await m.loop;
        await this.#disconnect(m);
      }),
    );
    this.#groups.delete(group);
  }

  async ping(): Promise<void> {
    const admin = new Admin({ ...this.#base(), retries: 0, timeout: 3_000 });
    try {
      await admin.metadata({ topics: [] });
    } finally {
      await admin.close().catch(() => {});
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#groups.keys()].map((g) => this.unsubscribe(g)));
    await this.#producer?.close().catch(() => {});
  }
}
