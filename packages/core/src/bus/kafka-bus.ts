import {
  Admin,
  Consumer,
  GenericError,
  type Message,
  type MessagesStream,
  Producer,
  stringDeserializers,
  stringSerializers,
} from "@platformatic/kafka";
import type { Logger } from "pino";
import { type EventPayloads, type HandlerMap, TOPICS, type Topic, validatePayload } from "../events.js";
import { type Bus, BusUnavailableError, type SubscribeOptions } from "./bus.js";
import { type DeliveryTransport, deliver } from "./delivery-core.js";
import { type DeliveryLedger, MemoryDeliveryLedger } from "./delivery-ledger.js";
import { DEFAULT_DELIVERY_POLICY, type DeliveryPolicy, retryDelayMs, sleep } from "./delivery-policy.js";
import { planClaims } from "./fair-schedule.js";
import { jobOwner } from "./job-store.js";
import { clientIdWithSlots, memberSlots, waitingMessages } from "./kafka-backlog.js";
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
  /**
   * How long `publish` keeps trying while the brokers are unreachable or between leaders
   * before it fails with BusUnavailableError (default 30 s). A broker restart shorter than
   * this pauses a running job's publish instead of failing the job.
   */
  publishPatienceMs?: number;
}

/** Where messages are parked after their last failed attempt. */
export const DEAD_LETTER_TOPIC = "reelkit.dead-letter";

type StringMessage = Message<string, string, string, string>;

/** Consumers of one phase (or, without a schedule, of every topic): one Kafka consumer group. */
interface PhaseGroup {
  /** The Kafka group id (prefixed). */
  groupId: string;
  topics: Topic[];
  /** Its place in the schedule's phases: a message of phase n > 0 waits while earlier ones wait. */
  phase: number;
}

/** Where a message came from, and which member of the group took it. */
interface Taken {
  memberId: string | null;
  topic: string;
  partition: number;
}

/** A fetched message of a member: waiting for a slot, running, or done and not yet committed. */
interface Job {
  message: StringMessage;
  /** The message's value, parsed once (see parseValue). */
  value: unknown;
  taken: Taken;
  /** Arrival order in this member (the fair plan's tie-breaker). */
  seq: number;
  owner: string;
  state: "waiting" | "running" | "done";
  /** Aborts what the job runs or waits for now (its handler, a backoff, the wait for a phase). */
  current: AbortController | null;
}

/** The messages of one partition a member fetched and has not committed, in offset order. */
interface PartitionJobs {
  jobs: Job[];
  /** Offsets below this are committed (or being committed) by this member. */
  committedTo: bigint;
}

interface Member {
  of: PhaseGroup;
  /** Messages it runs at once. */
  slots: number;
  /** The last of its free slots kept for owners with none of its messages running (scheduled only). */
  reserve: number;
  consumer: Consumer<string, string, string, string> | null;
  stream: MessagesStream<string, string, string, string> | null;
  /** By `topic:partition`. */
  partitions: Map<string, PartitionJobs>;
  running: number;
  waiting: number;
  seq: number;
  /** Handlers in flight, to wait for when the member lets go of its consumer. */
  tasks: Set<Promise<void>>;
  /** Resolved when a slot frees or a job goes: the reader waits on it while it has read far enough ahead. */
  wake: { promise: Promise<void>; resolve: () => void };
  loop: Promise<void>;
}

interface Group {
  name: string;
  phases: PhaseGroup[];
  members: Member[];
  /** Messages running in this process across the group's members, at most `cap`. */
  running: number;
  cap: number;
  stopping: boolean;
  /** Aborted on unsubscribe: ends backoff waits at once. */
  stop: AbortController;
  /** Counts deliveries when the subscriber gives no durable ledger (per process). */
  ledger: DeliveryLedger;
}

/** Messages a member reads ahead of those it runs (to pick fairly among them), at most. */
const READ_AHEAD = 500;

class Stopping extends Error {}
class Revoked extends Error {}
class CommitTimeout extends Error {}
/** The member's consumer cannot go on (its stream ended, an offset it owns cannot be committed): it reconnects. */
class ConsumerStuck extends Error {}

/**
 * Whether a client error says the brokers are away for a while (connection refused or lost, a
 * timeout, a retriable protocol error such as NOT_LEADER_OR_FOLLOWER), every cause of it
 * retriable: a refusal (MESSAGE_TOO_LARGE, an authorisation error) is not.
 */
export function transientKafkaError(err: unknown): boolean {
  if (!(err instanceof Error) || !GenericError.isGenericError(err)) return false;
  const causes = err instanceof AggregateError ? err.errors : [];
  if (causes.length > 0) return causes.every(transientKafkaError);
  const e = err as Error & { code?: string; canRetry?: boolean };
  if (e.code === "PLT_KFK_NETWORK" || e.code === "PLT_KFK_TIMEOUT") return true;
  return e.code === "PLT_KFK_PROTOCOL" && e.canRetry === true;
}

/** A message's value as JSON, or the raw text when it is not (the schema check then parks it). */
function parseValue(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

/** A promise to wait on and the function that settles it. */
function wakeSignal(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * The bus on Apache Kafka (`@platformatic/kafka`). Messages are keyed by video id, so one
 * video's events stay in order on one partition; the producer is idempotent and waits for every
 * in-sync replica. Each subscribed group (each phase of a schedule) has one member in its Kafka
 * consumer group per process, running up to `concurrency` (its phase's slots) messages of its
 * partitions at once: it reads ahead, starts messages out of order (fairly between owners when
 * scheduled, one key at a time) and commits a partition's offsets in order, up to the first
 * message not done, so a crash or a rebalance redelivers unfinished work; a rebalance that
 * takes the partition of running handlers aborts them (no commit), so its new owner is the only
 * one working on them. Failures are retried in place with backoff, then the message goes to the
 * dead-letter topic. Deliveries are counted in the subscriber's `deliveryLedger` (durable: a
 * message whose handler kills its process is parked after N deliveries, whoever made them).
 */
export class KafkaBus implements Bus {
  readonly #opts: KafkaBusOptions;
  readonly #policy: DeliveryPolicy;
  readonly #log: Logger | undefined;
  readonly #clientId = `reelkit-${newOwnerId().replace(/:/g, "-")}`;
  readonly #groups = new Map<string, Group>();
  #producer: Producer<string, string, string, string> | null = null;
  /** For the backlog of earlier phases (scheduled groups only). */
  #admin: Admin | null = null;
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
    const message = { topic: this.topicName(topic), key: key ?? payload.videoId, value: JSON.stringify(payload) };
    const deadline = Date.now() + (this.#opts.publishPatienceMs ?? 30_000);
    for (let failures = 0; ; ) {
      try {
        await this.ensureTopics();
        await this.#getProducer().send({ messages: [message] });
        return;
      } catch (err) {
        if (!transientKafkaError(err)) throw err;
        // The client retried a few times already; beyond that the broker is away (a restart).
        if (this.#closed || Date.now() >= deadline) {
          throw new BusUnavailableError(`Kafka did not take the message: ${errorMessage(err)}`, { cause: err });
        }
        if (failures++ === 0) this.#log?.warn({ err, topic }, "Kafka did not take a message; trying again");
        await sleep(Math.min(2_000, Math.max(0, deadline - Date.now())));
      }
    }
  }

  async subscribe(group: string, handlers: HandlerMap, options: SubscribeOptions = {}): Promise<void> {
    if (this.#closed) throw new Error("bus is closed");
    if (this.#groups.has(group)) throw new Error(`group ${group} is already subscribed`);
    await this.ensureTopics();
    const topics = Object.keys(handlers) as Topic[];
    const base = `${this.#opts.prefix ?? ""}${group}`;
    const order = options.schedule?.phases ?? [];
    // Scheduled: one consumer group per phase, with that phase's slots (a ladder never takes a
    // playable slot), the first phase under the group's own name. Kafka's assignors give every
    // member of a group every subscribed topic, so phases cannot share a group.
    const phases: PhaseGroup[] = options.schedule
      ? topics
          .map((t) => ({ t, i: order.indexOf(t) === -1 ? order.length : order.indexOf(t) }))
          .sort((a, b) => a.i - b.i)
          .map(({ t }, i) => ({ groupId: i === 0 ? base : `${base}.${t}`, topics: [t], phase: i }))
      : [{ groupId: base, topics, phase: 0 }];
    const count = Math.max(1, options.concurrency ?? 1);
    const g: Group = {
      name: group,
      phases,
      members: [],
      running: 0,
      cap: count,
      stopping: false,
      stop: new AbortController(),
      ledger: new MemoryDeliveryLedger(),
    };
    this.#groups.set(group, g);
    // One member per phase and process, running up to its phase's slots at once: it reads ahead
    // of what it runs, starts messages out of order (fair between owners, one key at a time) and
    // commits in order. A rebalance therefore never moves a job between members of one process,
    // and messages of one partition do not wait for each other.
    const slots = options.schedule?.slots ?? {};
    const reserve = options.schedule?.reserve ?? {};
    const starting = phases.map((of) => {
      const topic = of.topics[0] as Topic;
      const n = options.schedule ? Math.max(1, Math.min(count, slots[topic] ?? count)) : count;
      return { of, slots: n, reserve: options.schedule ? Math.max(0, Math.min(n - 1, reserve[topic] ?? 0)) : 0 };
    });
    // All at once: members joining one by one each start a rebalance, and every rebalance can
    // move the partition of a job that just started (it is stopped and delivered again).
    g.members.push(
      ...(await Promise.all(starting.map((m) => this.#startMember(g, m.of, m.slots, m.reserve, handlers, options)))),
    );
  }

  async #startMember(
    g: Group,
    of: PhaseGroup,
    slots: number,
    reserve: number,
    handlers: HandlerMap,
    options: SubscribeOptions,
  ): Promise<Member> {
    const member: Member = {
      of,
      slots,
      reserve,
      consumer: null,
      stream: null,
      partitions: new Map(),
      running: 0,
      waiting: 0,
      seq: 0,
      tasks: new Set(),
      wake: wakeSignal(),
      loop: Promise.resolve(),
    };
    await this.#connect(member);
    member.loop = (async () => {
      // A consumer that fails (the brokers were unreachable longer than its retries, an offset it
      // could not commit) is replaced: the group rebalances and delivery resumes from the
      // committed offsets.
      for (let failures = 0; !g.stopping; ) {
        try {
          if (!member.stream) await this.#connect(member);
          for await (const message of member.stream as MessagesStream<string, string, string, string>) {
            if (g.stopping) break;
            failures = 0;
            this.#take(g, member, message, handlers, options);
            // Far enough ahead: wait for a job to start or go (looking again every second, so a
            // stream closed meanwhile is noticed).
            while (member.waiting >= READ_AHEAD && !g.stopping && member.stream && !member.stream.closed) {
              await Promise.race([member.wake.promise, sleep(1_000, g.stop.signal)]);
            }
            if (g.stopping) break;
          }
          if (g.stopping) break;
          throw new Error("the message stream ended");
        } catch (err) {
          if (g.stopping) break;
          failures++;
          this.#log?.warn({ err, group: g.name }, "Kafka consumer failed; reconnecting");
          await this.#letGo(member, new Revoked("the consumer reconnects"));
          await this.#disconnect(member);
          await sleep(Math.min(10_000, 500 * 2 ** Math.min(failures, 5)), g.stop.signal);
        }
      }
      await this.#letGo(member, new Stopping("the consumer is stopping"));
    })();
    return member;
  }

  async #connect(member: Member): Promise<void> {
    const consumer = new Consumer({
      ...this.#base(),
      // The brokers report it to every transcoder: how many of its partitions' messages it runs at once.
      clientId: clientIdWithSlots(this.#clientId, member.slots),
      groupId: member.of.groupId,
      deserializers: stringDeserializers,
      autocommit: false,
      sessionTimeout: this.#opts.sessionTimeoutMs ?? 10_000,
      heartbeatInterval: Math.min(3_000, Math.floor((this.#opts.sessionTimeoutMs ?? 10_000) / 3)),
      rebalanceTimeout: 30_000,
    });
    member.consumer = consumer;
    const check = () => this.#checkRevoked(member);
    consumer.on("consumer:group:join", check);
    consumer.on("consumer:group:rebalance", check);
    consumer.on("consumer:group:leave", check);
    try {
      member.stream = await consumer.consume({
        topics: member.of.topics.map((t) => this.topicName(t)),
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

  /**
   * Stops every job of the member (`reason`: a stop hands them back, a reconnect loses them),
   * waits until their handlers settled, and forgets what it fetched: the group delivers every
   * uncommitted message again.
   */
  async #letGo(member: Member, reason: Error): Promise<void> {
    for (const partition of member.partitions.values()) {
      for (const job of partition.jobs) job.current?.abort(reason);
    }
    member.partitions.clear();
    member.waiting = 0;
    this.#wake(member);
    while (member.tasks.size > 0) await Promise.allSettled([...member.tasks]);
  }

  /** A message read from the stream: kept as a job of its partition (once), then the plan runs. */
  #take(g: Group, member: Member, message: StringMessage, handlers: HandlerMap, options: SubscribeOptions): void {
    const taken = { memberId: member.consumer?.memberId ?? null, topic: message.topic, partition: message.partition };
    if (!this.#owns(member, taken)) {
      // Fetched before a rebalance took its partition: its new owner delivers it.
      return;
    }
    const key = `${message.topic}:${message.partition}`;
    let partition = member.partitions.get(key);
    if (!partition) {
      partition = { jobs: [], committedTo: message.offset };
      member.partitions.set(key, partition);
    }
    // A rejoin fetches again from the committed offset: what this member holds already stays as it is.
    const last = partition.jobs.at(-1);
    if (message.offset < partition.committedTo || (last && message.offset <= last.message.offset)) return;
    const value = parseValue(message.value);
    partition.jobs.push({
      message,
      value,
      taken,
      seq: member.seq++,
      owner: jobOwner(value),
      state: "waiting",
      current: null,
    });
    member.waiting++;
    this.#plan(g, member, handlers, options);
  }

  /**
   * Starts what the member's free slots allow, in the schedule's order when the group has one
   * (fair between owners, a reserve kept for owners with nothing running), else oldest first.
   * A message waits while an earlier message of its key is not done, so one video's messages
   * run in order.
   */
  #plan(g: Group, member: Member, handlers: HandlerMap, options: SubscribeOptions): void {
    const free = Math.min(member.slots - member.running, g.cap - g.running);
    if (free <= 0 || member.waiting === 0 || g.stopping) return;
    const eligible: Job[] = [];
    const running: { topic: string; owner: string }[] = [];
    for (const partition of member.partitions.values()) {
      const busyKeys = new Set<string>();
      for (const job of partition.jobs) {
        if (job.state === "running") running.push({ topic: job.message.topic, owner: job.owner });
        if (job.state === "waiting" && !busyKeys.has(job.message.key)) eligible.push(job);
        if (job.state !== "done") busyKeys.add(job.message.key);
      }
    }
    let chosen: Job[];
    if (options.schedule) {
      const byId = new Map(eligible.map((job) => [String(job.seq), job]));
      const topic = member.of.topics[0] as string;
      chosen = planClaims({
        waiting: eligible.map((job) => ({ id: String(job.seq), topic, owner: job.owner, seq: job.seq })),
        running: running.map((r) => ({ topic, owner: r.owner })),
        policy: { phases: [topic], shares: options.schedule.shares },
        limit: free,
        free: { [topic]: member.slots - member.running },
        reserve: { [topic]: member.reserve },
      }).map((w) => byId.get(w.id) as Job);
    } else {
      chosen = eligible.sort((a, b) => a.seq - b.seq).slice(0, free);
    }
    for (const job of chosen) this.#start(g, member, job, handlers, options);
  }

  #start(g: Group, member: Member, job: Job, handlers: HandlerMap, options: SubscribeOptions): void {
    job.state = "running";
    member.waiting--;
    member.running++;
    g.running++;
    const task = this.#handle(g, member, job, handlers, options)
      .catch((err) => {
        if (g.stopping) return;
        // The member cannot go on (an offset it owns could not be committed): it reconnects, and
        // every message it had not committed is delivered again.
        this.#log?.warn({ err, group: g.name }, "a Kafka consumer cannot go on; reconnecting");
        void member.stream?.close().catch(() => {});
      })
      .finally(() => {
        member.running--;
        g.running--;
        member.tasks.delete(task);
        const partition = member.partitions.get(`${job.message.topic}:${job.message.partition}`);
        if (job.state === "running" && partition?.jobs.includes(job)) {
          // Ended without an outcome: it stays in line (nothing past it is committed) and runs
          // again while its partition is this member's; otherwise its new owner delivers it.
          if (!g.stopping && this.#owns(member, job.taken)) {
            job.state = "waiting";
            member.waiting++;
          } else {
            this.#checkRevoked(member);
          }
        }
        this.#wake(member);
        // Its own member first: while the group starts, it may not be among g.members yet.
        for (const m of new Set([member, ...g.members])) this.#plan(g, m, handlers, options);
      });
    member.tasks.add(task);
  }

  /**
   * A finished message (acknowledged or parked): the offsets of its partition's done messages
   * up to the first one not done are committed. Past one still running it is committed with
   * that one; a crash before redelivers it (handlers are idempotent).
   */
  async #done(member: Member, job: Job, log: Logger | undefined): Promise<void> {
    job.state = "done";
    const partition = member.partitions.get(`${job.message.topic}:${job.message.partition}`);
    if (!partition?.jobs.includes(job)) return;
    let last: Job | null = null;
    while (partition.jobs[0]?.state === "done") last = partition.jobs.shift() as Job;
    if (!last) return;
    partition.committedTo = last.message.offset + 1n;
    await this.#commit(last.message, member, last.taken, log);
  }

  async #handle(g: Group, member: Member, job: Job, handlers: HandlerMap, options: SubscribeOptions): Promise<void> {
    const { message, taken } = job;
    const prefix = this.#opts.prefix ?? "";
    const topic = message.topic.slice(prefix.length) as Topic;
    const log = this.#log?.child({
      group: g.name,
      topic,
      key: message.key,
      partition: message.partition,
      offset: String(message.offset),
    });
    if (!this.#owns(member, taken)) {
      // A rebalance took its partition meanwhile: its new owner delivers it.
      return log?.info("skipped a message of a partition this consumer no longer owns");
    }
    if (member.of.phase > 0 && !(await this.#earlierPhasesDone(g, member, job, log))) return;
    const ledger = options.deliveryLedger ?? g.ledger;
    const id = `${g.name}/${message.topic}/${message.partition}/${message.offset}`;
    const forget = () => ledger.forget(id).catch((err) => log?.warn({ err }, "could not clear a delivery record"));
    let ctrl = new AbortController();
    // Failures are retried in place: nothing is committed until the message is acknowledged or parked.
    let again = false;
    const transport: DeliveryTransport = {
      begin: async () => {
        for (let failures = 0; ; ) {
          try {
            return await ledger.begin(id);
          } catch (err) {
            // Not counted, not run: tried again (the handler would need the same storage anyway).
            log?.warn({ err }, "could not record a delivery; retrying");
            if (!(await sleep(retryDelayMs(this.#policy, ++failures), g.stop.signal))) return null;
          }
        }
      },
      ack: async () => {
        if (!this.#owns(member, taken)) {
          // Its new owner runs it again (handlers are idempotent); a commit now could skip its work.
          return log?.warn("finished a message whose partition was revoked meanwhile; not committed");
        }
        try {
          await this.#done(member, job, log);
        } catch (err) {
          // It runs again after the member reconnects: this finished delivery does not count.
          await ledger.handBack(id).catch((e) => log?.warn({ err: e }, "could not take back a delivery"));
          throw err;
        }
        await forget();
      },
      retry: async (delayMs, error) => {
        await ledger.failed(id, error).catch((err) => log?.warn({ err }, "could not record a failed delivery"));
        const wait = new AbortController();
        job.current = wait;
        again = (await sleep(delayMs, wait.signal)) && !g.stopping;
        job.current = null;
        // Stopped or revoked while waiting: not committed, so the group delivers it again.
        if (!again) log?.info("handed the job back (stopping)");
      },
      handBack: async () => {
        // Not committed: the next member of the group gets the message.
        await ledger.handBack(id).catch((err) => log?.warn({ err }, "could not hand a delivery back"));
      },
      lost: async () => {
        // A rebalance moved the partition: its new owner delivers it again, and this delivery,
        // stopped by the bus and not by the job, does not count towards parking it. (Joins and
        // departures of transcoders move partitions; counted, they parked healthy jobs.)
        await ledger.handBack(id).catch((err) => log?.warn({ err }, "could not take back a revoked delivery"));
      },
      unavailable: async () => {
        // The brokers were away (a restart): not the job's fault, so not counted; it runs again
        // here once they answer, unless the partition moved meanwhile (its new owner runs it).
        await ledger.handBack(id).catch((err) => log?.warn({ err }, "could not take back a delivery"));
        const wait = new AbortController();
        job.current = wait;
        try {
          for (let failures = 0; !g.stopping && !(await this.#answers()); failures++) {
            if (!(await sleep(Math.min(5_000, 500 * 2 ** failures), wait.signal))) break;
          }
        } finally {
          if (job.current === wait) job.current = null;
        }
        again = !wait.signal.aborted && !g.stopping && this.#owns(member, taken);
        if (!again) log?.info("not running it again here (stopping, or its partition moved)");
      },
      park: async (error, attempts) => {
        await this.#deadLetter(message, error, attempts);
        await this.#done(member, job, log);
        await forget();
      },
      interruption: () => {
        if (ctrl.signal.reason instanceof Revoked) return "lost";
        return g.stopping ? "stopping" : null;
      },
    };
    do {
      again = false;
      ctrl = new AbortController();
      job.current = ctrl;
      try {
        await deliver({
          transport,
          policy: this.#policy,
          topic,
          key: message.key,
          payload: job.value,
          handlers,
          options,
          signal: ctrl.signal,
          enqueuedAt: message.timestamp > 0n ? new Date(Number(message.timestamp)) : undefined,
          log,
        });
      } finally {
        if (job.current === ctrl) job.current = null;
      }
    } while (again);
  }

  /**
   * Holds a message of a later phase (a ladder) while messages of an earlier phase (playable
   * phases) wait anywhere in the consumer group, so every machine runs waiting playable phases
   * first. Checked every second from the brokers' offsets and the group's members; false
   * when the wait ended because the partition was revoked or the bus is stopping (the message is
   * not started, nothing is counted). An unanswered check lets the message go: a broker hiccup
   * delays no ladder for good.
   */
  async #earlierPhasesDone(g: Group, member: Member, job: Job, log: Logger | undefined): Promise<boolean> {
    const wait = new AbortController();
    job.current = wait;
    let told = false;
    try {
      for (;;) {
        if (g.stopping || wait.signal.aborted || !this.#owns(member, job.taken)) return false;
        const earlier = g.phases.filter((p) => p.phase < member.of.phase);
        let waiting = 0;
        try {
          for (const p of earlier) for (const t of p.topics) waiting += await this.#waitingIn(p.groupId, t);
        } catch (err) {
          log?.warn({ err }, "could not read the backlog of earlier phases; not waiting for it");
          return true;
        }
        if (waiting === 0) return true;
        if (!told) log?.info({ waiting }, "waiting: messages of an earlier phase wait in the group");
        told = true;
        if (!(await sleep(1_000, wait.signal))) return false;
      }
    } finally {
      if (job.current === wait) job.current = null;
    }
  }

  /** Messages of `topic` waiting in consumer group `groupId`, not running (see waitingMessages). */
  async #waitingIn(groupId: string, topic: Topic): Promise<number> {
    this.#admin ??= new Admin({ ...this.#base(), retries: 1, timeout: 5_000 });
    const admin = this.#admin;
    const name = this.topicName(topic);
    const count = (await admin.metadata({ topics: [name] })).topics.get(name)?.partitionsCount ?? 0;
    const partitions = Array.from({ length: count }, (_, i) => i);
    const offsets = async (timestamp: bigint) => {
      const [listed] = await admin.listOffsets({
        topics: [{ name, partitions: partitions.map((partitionIndex) => ({ partitionIndex, timestamp })) }],
      });
      return new Map((listed?.partitions ?? []).map((p) => [p.partitionIndex, p.offset]));
    };
    const [latest, earliest, committed, groups] = await Promise.all([
      offsets(-1n),
      offsets(-2n),
      admin.listConsumerGroupOffsets({ groups: [{ groupId, topics: [{ name, partitionIndexes: partitions }] }] }),
      admin.describeGroups({ groups: [groupId] }),
    ]);
    const done = new Map(
      (committed[0]?.topics.find((t) => t.name === name)?.partitions ?? []).map((p) => [
        p.partitionIndex,
        p.committedOffset,
      ]),
    );
    const lag = new Map(
      partitions.map((p) => {
        // Nothing committed yet: the group starts from the earliest message still kept.
        const from = (done.get(p) ?? -1n) >= 0n ? (done.get(p) as bigint) : (earliest.get(p) ?? 0n);
        return [p, Number((latest.get(p) ?? 0n) - from)] as const;
      }),
    );
    const members = [...(groups.get(groupId)?.members.values() ?? [])].map((m) => ({
      partitions: m.assignments?.get(name)?.partitions ?? [],
      slots: memberSlots(m.clientId),
    }));
    return waitingMessages({ lag, members });
  }

  /** Whether the consumer still owns the partition it took a message from, as the same member. */
  #owns(member: Member, taken: Taken): boolean {
    const consumer = member.consumer;
    if (!consumer || consumer.memberId !== taken.memberId) return false;
    const assignments = consumer.assignments;
    // Mid-rejoin there is no assignment yet: keep going until the group decides.
    if (assignments === null) return true;
    return assignments.some((a) => a.topic === taken.topic && a.partitions.includes(taken.partition));
  }

  /**
   * After a rebalance: the jobs of a partition that went to another member are stopped (running
   * ones aborted, waiting ones dropped, done ones left uncommitted): its new owner delivers them.
   */
  #checkRevoked(member: Member): void {
    for (const [key, partition] of member.partitions) {
      const first = partition.jobs[0];
      if (!first || this.#owns(member, first.taken)) continue;
      member.partitions.delete(key);
      const running = partition.jobs.filter((job) => job.state === "running");
      if (running.length > 0) {
        this.#log?.warn(
          { topic: first.taken.topic, partition: first.taken.partition, running: running.length },
          "a rebalance revoked the partition of running handlers; stopping them",
        );
      }
      for (const job of partition.jobs) {
        if (job.state === "waiting") member.waiting--;
        job.current?.abort(new Revoked("the partition was revoked"));
      }
      this.#wake(member);
    }
  }

  /** Wakes the member's reader if it waits for its jobs to make room. */
  #wake(member: Member): void {
    member.wake.resolve();
    member.wake = wakeSignal();
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

  /**
   * Commits a finished message's offset. While the brokers are away it keeps trying (within
   * the publish patience) as long as this member owns the partition. When that fails, or the
   * member's stream ended meanwhile (a client whose stream failed never settles a commit queued
   * mid-rejoin), it throws ConsumerStuck: the member reconnects and reads the committed offsets
   * again, so the message runs again rather than staying behind its committed offset, where it
   * would count as a waiting message of its phase (holding ladders) until the next rebalance.
   */
  async #commit(message: StringMessage, member: Member, taken: Taken, log: Logger | undefined): Promise<void> {
    const deadline = Date.now() + (this.#opts.publishPatienceMs ?? 30_000);
    for (;;) {
      try {
        return await this.#commitOnce(message, member);
      } catch (err) {
        if (this.#closed || !this.#owns(member, taken)) {
          // A rebalance took the partition: its new owner delivers the message again (at-least-once).
          return log?.warn({ err }, "could not commit an offset; the partition moved");
        }
        const wait = transientKafkaError(err) || err instanceof CommitTimeout;
        if (!wait || Date.now() >= deadline) {
          throw new ConsumerStuck(`could not commit an offset: ${errorMessage(err)}`, { cause: err });
        }
        await sleep(1_000);
      }
    }
  }

  /** One commit, settled within 10 s and as soon as the member's stream ends. */
  #commitOnce(message: StringMessage, member: Member): Promise<void> {
    const stream = member.stream;
    if (!stream || stream.closed || stream.destroyed) return Promise.reject(new ConsumerStuck("the stream ended"));
    return new Promise<void>((resolve, reject) => {
      const settle = (err?: unknown) => {
        clearTimeout(timer);
        stream.off("close", ended);
        if (err) reject(err);
        else resolve();
      };
      const ended = () => settle(new ConsumerStuck("the stream ended"));
      const timer = setTimeout(() => settle(new CommitTimeout("the commit took over 10 s")), 10_000);
      stream.once("close", ended);
      Promise.resolve(message.commit()).then(() => settle(), settle);
    });
  }

  async unsubscribe(group: string): Promise<void> {
    const g = this.#groups.get(group);
    if (!g) return;
    g.stopping = true;
    g.stop.abort();
    const stopping = new Stopping("the consumer is stopping");
    for (const m of g.members)
      for (const p of m.partitions.values()) for (const job of p.jobs) job.current?.abort(stopping);
    await Promise.all(
      g.members.map(async (m) => {
        // Leaving the group hands the uncommitted messages to the remaining members at once.
        await m.stream?.close().catch(() => {});
        await m.loop;
        await this.#disconnect(m);
      }),
    );
    this.#groups.delete(group);
  }

  /** Whether the brokers answer now. */
  #answers(): Promise<boolean> {
    return this.ping().then(
      () => true,
      () => false,
    );
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
    await this.#admin?.close().catch(() => {});
  }
}
