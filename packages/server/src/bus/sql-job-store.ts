import { type ClaimOptions, type JobStore, planClaims, type QueuedJob, type QueueSnapshot } from "@reelkit/core";
import { Prisma, type PrismaClient } from "../generated/prisma/client.js";

/** How many queued rows a scheduled claim looks at (the oldest). */
const SCHEDULE_WINDOW = 2_000;

/** NOTIFY channel of `bus_job`: the payload is the topic of a job that became claimable. */
export const JOB_CHANNEL = "reelkit_jobs";

/**
 * The JobStore on the catalog database (embedded or external PostgreSQL), table `bus_job`. Claims are one
 * statement: the oldest available rows are locked with FOR UPDATE SKIP LOCKED, so concurrent
 * consumers (processes on one PostgreSQL) never get the same row, and leased to the claimer.
 * Messages with the same key reach a group in order: a row waits while an older one of its
 * key (same group's topics) is still queued, running or waiting for a retry.
 */
export class SqlJobStore implements JobStore {
  constructor(private readonly prisma: PrismaClient) {}

  /** The row and its notification commit together: listeners hear of it once it is claimable. */
  async insert(message: { topic: string; key: string; payload: unknown }): Promise<void> {
    await this.prisma.$transaction([
      this.prisma.busJob.create({
        data: { topic: message.topic, key: message.key, payload: message.payload as Prisma.InputJsonValue },
      }),
      this.prisma.$executeRaw`SELECT pg_notify(${JOB_CHANNEL}, ${message.topic})`,
    ]);
  }

  async claim(options: ClaimOptions): Promise<QueuedJob[]> {
    const { topics, limit, owner, leaseMs } = options;
    if (topics.length === 0 || limit <= 0) return [];
    if (options.schedule) return this.#claimScheduled(options);
    const rows = await this.prisma.$queryRaw<
      {
        id: bigint;
        topic: string;
        key: string;
        payload: unknown;
        attempts: number;
        last_error: string | null;
        created_at: Date;
      }[]
    >(Prisma.sql`
      UPDATE bus_job
         SET lease_owner = ${owner},
             lease_until = now() + make_interval(secs => ${leaseMs / 1000}::double precision),
             attempts = attempts + 1
       WHERE id IN (
         SELECT id FROM bus_job j
          WHERE topic IN (${Prisma.join([...topics])})
            AND parked_at IS NULL
            AND available_at <= now()
            AND (lease_until IS NULL OR lease_until < now())
            AND NOT EXISTS (
              SELECT 1 FROM bus_job o
               WHERE o.key = j.key AND o.id < j.id AND o.parked_at IS NULL
                 AND o.topic IN (${Prisma.join([...topics])}))
          ORDER BY id
          LIMIT ${limit}
          FOR UPDATE SKIP LOCKED)
      RETURNING id, topic, key, payload, attempts, last_error, created_at`);
    return rows
      .sort((a, b) => (a.id < b.id ? -1 : 1))
      .map((r) => ({
        id: String(r.id),
        topic: r.topic,
        key: r.key,
        payload: r.payload,
        attempts: r.attempts,
        lastError: r.last_error,
        createdAt: new Date(r.created_at),
      }));
  }

  /**
   * Claims in schedule order: the claimable rows (at most SCHEDULE_WINDOW, oldest first) and the
   * running ones are read, planned (fair-schedule.ts), and the chosen rows leased in one
   * statement that checks again that each is still free (a concurrent claimer may have won it).
   */
  async #claimScheduled({ topics, limit, owner, leaseMs, schedule }: ClaimOptions): Promise<QueuedJob[]> {
    if (!schedule) return [];
    const rows = await this.prisma.$queryRaw<
      { id: bigint; topic: string; owner: string | null; running: boolean; claimable: boolean }[]
    >(Prisma.sql`
      SELECT id, topic, payload->>'ownerId' AS owner,
             (lease_until IS NOT NULL AND lease_until >= now()) AS running,
             (available_at <= now() AND (lease_until IS NULL OR lease_until < now())
              AND NOT EXISTS (
                SELECT 1 FROM bus_job o
                 WHERE o.key = j.key AND o.id < j.id AND o.parked_at IS NULL
                   AND o.topic IN (${Prisma.join([...topics])}))) AS claimable
        FROM bus_job j
       WHERE topic IN (${Prisma.join([...topics])}) AND parked_at IS NULL
       ORDER BY id
       LIMIT ${SCHEDULE_WINDOW}`);
    const chosen = planClaims({
      waiting: rows
        .filter((r) => r.claimable)
        .map((r) => ({ id: String(r.id), topic: r.topic, owner: r.owner ?? "", seq: Number(r.id) })),
      running: rows.filter((r) => r.running).map((r) => ({ topic: r.topic, owner: r.owner ?? "" })),
      policy: schedule.policy,
      limit,
      free: schedule.free,
      reserve: schedule.reserve,
    });
    if (chosen.length === 0) return [];
    const claimed = await this.prisma.$queryRaw<
      {
        id: bigint;
        topic: string;
        key: string;
        payload: unknown;
        attempts: number;
        last_error: string | null;
        created_at: Date;
      }[]
    >(Prisma.sql`
      UPDATE bus_job
         SET lease_owner = ${owner},
             lease_until = now() + make_interval(secs => ${leaseMs / 1000}::double precision),
             attempts = attempts + 1
       WHERE id IN (
         SELECT id FROM bus_job
          WHERE id IN (${Prisma.join(chosen.map((c) => BigInt(c.id)))})
            AND parked_at IS NULL AND available_at <= now()
            AND (lease_until IS NULL OR lease_until < now())
          FOR UPDATE SKIP LOCKED)
      RETURNING id, topic, key, payload, attempts, last_error, created_at`);
    const order = new Map(chosen.map((c, i) => [c.id, i]));
    return claimed
      .map((r) => ({
        id: String(r.id),
        topic: r.topic,
        key: r.key,
        payload: r.payload,
        attempts: r.attempts,
        lastError: r.last_error,
        createdAt: new Date(r.created_at),
      }))
      .sort((a, b) => (order.get(a.id) ?? 0) - (order.get(b.id) ?? 0));
  }

  async snapshot(topics: readonly string[]): Promise<QueueSnapshot> {
    if (topics.length === 0) return { waiting: [], running: [] };
    const rows = await this.prisma.$queryRaw<
      { id: bigint; topic: string; key: string; owner: string | null; running: boolean }[]
    >(Prisma.sql`
      SELECT id, topic, key, payload->>'ownerId' AS owner,
             (lease_until IS NOT NULL AND lease_until >= now()) AS running
        FROM bus_job
       WHERE topic IN (${Prisma.join([...topics])}) AND parked_at IS NULL
       ORDER BY id
       LIMIT ${SCHEDULE_WINDOW}`);
    return {
      waiting: rows
        .filter((r) => !r.running)
        .map((r) => ({ id: String(r.id), topic: r.topic, key: r.key, owner: r.owner ?? "", seq: Number(r.id) })),
      running: rows.filter((r) => r.running).map((r) => ({ topic: r.topic, key: r.key, owner: r.owner ?? "" })),
    };
  }

  async renew(id: string, owner: string, leaseMs: number): Promise<boolean> {
    const n = await this.prisma.$executeRaw`
      UPDATE bus_job SET lease_until = now() + make_interval(secs => ${leaseMs / 1000}::double precision)
       WHERE id = ${BigInt(id)} AND lease_owner = ${owner} AND parked_at IS NULL`;
    return n > 0;
  }

  async ack(id: string, owner: string): Promise<void> {
    await this.prisma.$executeRaw`DELETE FROM bus_job WHERE id = ${BigInt(id)} AND lease_owner = ${owner}`;
  }

  /** Handed back jobs are claimable at once: other instances are told (NOTIFY, on commit). */
  async release(id: string, owner: string): Promise<void> {
    await this.prisma.$executeRaw`
      WITH released AS (
        UPDATE bus_job SET lease_owner = NULL, lease_until = NULL, available_at = now(),
                           attempts = GREATEST(attempts - 1, 0)
         WHERE id = ${BigInt(id)} AND lease_owner = ${owner} AND parked_at IS NULL
        RETURNING topic)
      SELECT pg_notify(${JOB_CHANNEL}, topic) FROM released`;
  }

  async retry(id: string, owner: string, delayMs: number, error: string): Promise<void> {
    await this.prisma.$executeRaw`
      UPDATE bus_job SET lease_owner = NULL, lease_until = NULL, last_error = ${error},
                         available_at = now() + make_interval(secs => ${delayMs / 1000}::double precision)
       WHERE id = ${BigInt(id)} AND lease_owner = ${owner} AND parked_at IS NULL`;
  }

  async park(id: string, owner: string, error: string): Promise<void> {
    await this.prisma.$executeRaw`
      UPDATE bus_job SET lease_owner = NULL, lease_until = NULL, last_error = ${error}, parked_at = now()
       WHERE id = ${BigInt(id)} AND lease_owner = ${owner} AND parked_at IS NULL`;
  }

  async leaseOwners(): Promise<string[]> {
    const rows = await this.prisma.$queryRaw<{ lease_owner: string }[]>`
      SELECT DISTINCT lease_owner FROM bus_job WHERE lease_owner IS NOT NULL AND lease_until > now()`;
    return rows.map((r) => r.lease_owner);
  }

  async expireLeases(owner: string): Promise<number> {
    return this.prisma.$executeRaw`
      UPDATE bus_job SET lease_until = now() - interval '1 millisecond' WHERE lease_owner = ${owner} AND parked_at IS NULL`;
  }

  async hasPending(key: string): Promise<boolean> {
    const row = await this.prisma.busJob.findFirst({ where: { key, parkedAt: null }, select: { id: true } });
    return row !== null;
  }

  async ping(): Promise<void> {
    await this.prisma.$queryRaw`SELECT 1`;
  }
}
