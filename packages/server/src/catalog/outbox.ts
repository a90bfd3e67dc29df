import { Prisma, type PrismaClient } from "../generated/prisma/client.js";

export interface OutboxRow {
  id: bigint;
  topic: string;
  key: string;
  payload: unknown;
}

/** Rows of the transactional outbox, read by the relay that publishes them to the bus. */
export class OutboxRepository {
  constructor(private readonly prisma: PrismaClient) {}

  /**
   * Claims up to `limit` unpublished rows, oldest first, for `owner` during `claimMs`: another
   * relay (another server instance) skips them meanwhile, so no row is sent by two relays.
   * A row waits while an older row of its key is unpublished, so the events of one video reach
   * the bus in the order they were written (the bus keeps a key's order from there).
   */
  async claim(owner: string, limit: number, claimMs = 30_000): Promise<OutboxRow[]> {
    const rows = await this.prisma.$queryRaw<OutboxRow[]>(Prisma.sql`
      UPDATE outbox SET claimed_by = ${owner},
                        claimed_until = now() + make_interval(secs => ${claimMs / 1000}::double precision)
       WHERE id IN (
         SELECT id FROM outbox
          WHERE published_at IS NULL AND (claimed_until IS NULL OR claimed_until < now())
            AND NOT EXISTS (
              SELECT 1 FROM outbox older
               WHERE older.key = outbox.key AND older.published_at IS NULL AND older.id < outbox.id)
          ORDER BY id LIMIT ${limit}
          FOR UPDATE SKIP LOCKED)
      RETURNING id, topic, key, payload`);
    return rows.sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  /** Relays holding a claim now. */
  async claimOwners(): Promise<string[]> {
    const rows = await this.prisma.outbox.findMany({
      where: { publishedAt: null, claimedUntil: { gt: new Date() }, claimedBy: { not: null } },
      select: { claimedBy: true },
      distinct: ["claimedBy"],
    });
    return rows.map((r) => r.claimedBy as string);
  }

  /** Ends the claims of `owner` (a relay known to be dead). */
  async releaseClaims(owner: string): Promise<number> {
    const { count } = await this.prisma.outbox.updateMany({
      where: { claimedBy: owner, publishedAt: null },
      data: { claimedUntil: null, claimedBy: null },
    });
    return count;
  }

  /** Unpublished rows, oldest first (claimed or not). */
  pending(limit: number) {
    return this.prisma.outbox.findMany({ where: { publishedAt: null }, orderBy: { id: "asc" }, take: limit });
  }

  /** True while an event for this key waits to be published. */
  async hasPending(key: string): Promise<boolean> {
    return (await this.prisma.outbox.findFirst({ where: { key, publishedAt: null }, select: { id: true } })) !== null;
  }

  /** Messages not yet published and the age of the oldest, in seconds (0 when none): the queue lag. */
  async lag(): Promise<{ pending: number; oldestSeconds: number }> {
    const [pending, oldest] = await Promise.all([
      this.prisma.outbox.count({ where: { publishedAt: null } }),
      this.prisma.outbox.findFirst({
        where: { publishedAt: null },
        orderBy: { id: "asc" },
        select: { createdAt: true },
      }),
    ]);
    return { pending, oldestSeconds: oldest ? Math.max(0, (Date.now() - oldest.createdAt.getTime()) / 1000) : 0 };
  }

  /** Marks one row, or a batch of rows, published in one statement. */
  async markPublished(ids: bigint | bigint[]): Promise<void> {
    await this.prisma.outbox.updateMany({
      where: { id: { in: Array.isArray(ids) ? ids : [ids] }, publishedAt: null },
      data: { publishedAt: new Date(), claimedBy: null, claimedUntil: null },
    });
  }

  /** Keeps the row pending, claimable again after `retryMs`, and records why this attempt failed. */
  async markFailed(id: bigint, error: string, retryMs = 1_000): Promise<void> {
    await this.prisma.outbox.updateMany({
      where: { id },
      data: {
        attempts: { increment: 1 },
        lastError: error.slice(0, 2000),
        claimedUntil: new Date(Date.now() + retryMs),
      },
    });
  }
}
