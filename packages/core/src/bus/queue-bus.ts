import type { Logger } from "pino";
import type { EventPayloads } from "../events.js";
import { type HandlerMap, type Topic, validatePayload } from "../events.js";
import type { Bus, SubscribeOptions } from "./bus.js";
import { type DeliveryTransport, deliver } from "./delivery-core.js";
import { DEFAULT_DELIVERY_POLICY, type DeliveryPolicy, sleep } from "./delivery-policy.js";
import type { JobStore, JobWakeups, QueuedJob } from "./job-store.js";
import { isDeadLocalOwner, newOwnerId } from "./owner-id.js";

export interface QueueBusOptions extends Partial<DeliveryPolicy> {
  store: JobStore;
  logger?: Logger;
  /** A claimed job is redelivered when its consumer has not renewed the lease for this long. */
  leaseMs?: number;
  /**
   * How often an idle consumer looks for new jobs. Jobs published through this bus wake it at
   * once, and so do `wakeups` for jobs published elsewhere; the poll finds the rest (retries
   * whose delay ran out, a lost notification).
   */
  pollMs?: number;
  /** Notifications of jobs published by other processes; the bus closes them when it closes. */
  wakeups?: JobWakeups;
  /** After a stop aborted a handler, how long to wait for it before handing its job back anyway. */
  handbackTimeoutMs?: number;
}

interface Running {
  topic: string;
  ctrl: AbortController;
  done: Promise<void>;
}

interface Consumer {
  group: string;
  handlers: HandlerMap;
  topics: Topic[];
  options: SubscribeOptions;
  running: Map<string, Running>;
  stopping: boolean;
  timer: NodeJS.Timeout | null;
  polling: Promise<void> | null;
  again: boolean;
}

class LeaseLost extends Error {}
class Stopping extends Error {}

/**
 * The bus over a durable job queue (the database in embedded mode). Publishing commits a row;
 * consumers claim rows with a lease they renew while the handler runs, delete a row only after
 * its handler resolved, and hand it back at once when they stop. A crashed consumer's lease
 * expires and the job is claimed again. Each topic is consumed by one group (a queue, not a
 * log): the catalogue has one consumer per topic.
 */
export class QueueBus implements Bus {
  readonly owner = newOwnerId();
  readonly #store: JobStore;
  readonly #log: Logger | undefined;
  readonly #policy: DeliveryPolicy;
  readonly #leaseMs: number;
  readonly #pollMs: number;
  readonly #handbackTimeoutMs: number;
  readonly #consumers = new Map<string, Consumer>();
  #closed = false;
  #recovered: Promise<void> | null = null;
  readonly #wakeups: JobWakeups | undefined;
  readonly #stopWakeups: (() => void) | undefined;

  constructor(options: QueueBusOptions) {
    this.#store = options.store;
    this.#log = options.logger;
    this.#policy = {
      maxAttempts: options.maxAttempts ?? DEFAULT_DELIVERY_POLICY.maxAttempts,
      backoffMs: options.backoffMs ?? DEFAULT_DELIVERY_POLICY.backoffMs,
      maxBackoffMs: options.maxBackoffMs ?? DEFAULT_DELIVERY_POLICY.maxBackoffMs,
    };
    this.#leaseMs = options.leaseMs ?? 30_000;
    this.#pollMs = options.pollMs ?? 500;
    this.#handbackTimeoutMs = options.handbackTimeoutMs ?? 5_000;
    this.#wakeups = options.wakeups;
    this.#stopWakeups = options.wakeups?.subscribe((topic) => {
      for (const c of this.#consumers.values()) {
        if (topic === null || c.topics.includes(topic as Topic)) this.#schedule(c, 0);
      }
    });
  }

  async publish<T extends Topic>(topic: T, payload: EventPayloads[T], key?: string): Promise<void> {
    if (this.#closed) throw new Error("bus is closed");
    validatePayload(topic, payload);
    await this.#store.insert({ topic, key: key ?? payload.videoId, payload });
    for (const c of this.#consumers.values()) if (c.topics.includes(topic)) this.#schedule(c, 0);
  }

  async subscribe(group: string, handlers: HandlerMap, options: SubscribeOptions = {}): Promise<void> {
    if (this.#closed) throw new Error("bus is closed");
    const topics = Object.keys(handlers) as Topic[];
    for (const c of this.#consumers.values()) {
      const taken = topics.find((t) => c.topics.includes(t));
      if (taken) throw new Error(`group ${c.group} already has a handler for ${taken}`);
    }
    if (this.#consumers.has(group)) throw new Error(`group ${group} is already subscribed`);
    const consumer: Consumer = {
      group,
      handlers,
      topics,
      options,
      running: new Map(),
      stopping: false,
      timer: null,
      polling: null,
      again: false,
    };
    this.#consumers.set(group, consumer);
    this.#recovered ??= this.#expireDeadLocalLeases();
    await this.#recovered;
    this.#schedule(consumer, 0);
  }

  async unsubscribe(group: string): Promise<void> {
    const c = this.#consumers.get(group);
    if (!c) return;
    c.stopping = true;
    if (c.timer) clearTimeout(c.timer);
    c.timer = null;
    await c.polling;
    for (const r of c.running.values()) r.ctrl.abort(new Stopping("the consumer is stopping"));
    const all = Promise.all([...c.running.values()].map((r) => r.done));
    if (!(await Promise.race([all.then(() => true), sleep(this.#handbackTimeoutMs)]))) {
      // A handler that ignores its signal must not keep its job from the next consumer.
      this.#log?.warn({ group }, "a handler did not stop in time; handing its job back anyway");
      await Promise.all([...c.running.keys()].map((id) => this.#store.release(id, this.owner).catch(() => {})));
    }
    this.#consumers.delete(group);
  }

  /**
   * Leases of processes on this host that no longer exist (killed, crashed) end now instead of
   * after their timeout, so a restarted server picks its interrupted jobs up at once.
   */
  async #expireDeadLocalLeases(): Promise<void> {
    try {
      for (const owner of await this.#store.leaseOwners()) {
        if (!isDeadLocalOwner(owner)) continue;
        const n = await this.#store.expireLeases(owner);
        if (n > 0) this.#log?.info({ owner, jobs: n }, "took back the jobs of a process that died");
      }
    } catch (err) {
      this.#log?.warn({ err }, "could not look for the leases of dead processes");
    }
  }

  ping(): Promise<void> {
    return this.#store.ping();
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#stopWakeups?.();
    await Promise.all([...this.#consumers.keys()].map((g) => this.unsubscribe(g)));
    await this.#wakeups?.close();
  }

  #schedule(c: Consumer, delay: number): void {
    if (c.stopping) return;
    if (c.polling) {
      // A poll is under way: look again right after it instead of waiting for the timer.
      if (delay === 0) c.again = true;
      return;
    }
    if (c.timer) {
      if (delay > 0) return;
      clearTimeout(c.timer);
    }
    c.timer = setTimeout(() => {
      c.timer = null;
      c.polling = this.#poll(c).finally(() => {
        c.polling = null;
        const again = c.again;
        c.again = false;
        this.#schedule(c, again ? 0 : this.#pollMs);
      });
    }, delay);
    c.timer.unref();
  }

  async #poll(c: Consumer): Promise<void> {
    const capacity = Math.max(1, c.options.concurrency ?? 1) - c.running.size;
    if (capacity <= 0) return;
    const sched = c.options.schedule;
    const busy = (topic: string) => [...c.running.values()].filter((r) => r.topic === topic).length;
    const schedule = sched && {
      policy: sched,
      free: Object.fromEntries(Object.entries(sched.slots ?? {}).map(([t, n]) => [t, Math.max(0, (n ?? 0) - busy(t))])),
      reserve: Object.fromEntries(Object.entries(sched.reserve ?? {}).map(([t, n]) => [t, n ?? 0])),
    };
    let jobs: QueuedJob[];
    try {
      jobs = await this.#store.claim({
        topics: c.topics,
        limit: capacity,
        owner: this.owner,
        leaseMs: this.#leaseMs,
        schedule,
      });
    } catch (err) {
      this.#log?.warn({ err, group: c.group }, "could not claim jobs");
      return;
    }
    for (const job of jobs) {
      const ctrl = new AbortController();
      const done = this.#run(c, job, ctrl).finally(() => {
        c.running.delete(job.id);
        this.#schedule(c, 0);
      });
      c.running.set(job.id, { topic: job.topic, ctrl, done });
    }
    if (jobs.length === capacity) c.again = true;
  }

  async #run(c: Consumer, job: QueuedJob, ctrl: AbortController): Promise<void> {
    const store = this.#store;
    const log = this.#log?.child({
      group: c.group,
      topic: job.topic,
      key: job.key,
      jobId: job.id,
      delivery: job.attempts,
    });
    const quietly = async (what: string, p: Promise<unknown>): Promise<void> => {
      await p.catch((err) => log?.warn({ err }, `could not ${what} a job (its lease will expire)`));
    };
    if (c.stopping) return void (await quietly("hand back", store.release(job.id, this.owner)));

    // Renewed until the job is settled, a report of a parked message included.
    const heartbeat = setInterval(
      () => {
        store.renew(job.id, this.owner, this.#leaseMs).then(
          (held) => {
            if (!held) ctrl.abort(new LeaseLost("the job's lease was lost"));
          },
          (err) => log?.warn({ err }, "could not renew a lease"),
        );
      },
      Math.max(50, Math.floor(this.#leaseMs / 3)),
    );
    heartbeat.unref();
    const transport: DeliveryTransport = {
      begin: async () => ({ attempts: job.attempts, lastError: job.lastError ?? null }),
      ack: () => quietly("acknowledge", store.ack(job.id, this.owner)),
      retry: (delayMs, error) => quietly("reschedule", store.retry(job.id, this.owner, delayMs, error)),
      handBack: () => quietly("hand back", store.release(job.id, this.owner)),
      // The lease went to another consumer, which claimed (and counted) it anew: nothing to undo
      // here, the claim that lost its lease stalled (and may have been the job's own doing).
      lost: async () => {},
      // The job store is the database: released uncounted, claimed again when it answers.
      unavailable: () => quietly("hand back", store.release(job.id, this.owner)),
      park: (error) => quietly("park", store.park(job.id, this.owner, error)),
      interruption: () => {
        const reason = ctrl.signal.reason;
        if (reason instanceof LeaseLost) return "lost";
        return reason instanceof Stopping || c.stopping ? "stopping" : null;
      },
    };
    try {
      await deliver({
        transport,
        policy: this.#policy,
        topic: job.topic,
        key: job.key,
        payload: job.payload,
        handlers: c.handlers,
        options: c.options,
        signal: ctrl.signal,
        enqueuedAt: job.createdAt,
        log,
      });
    } finally {
      clearInterval(heartbeat);
    }
  }
}
