import type { Outbox, PrismaClient } from "../generated/prisma/client.js";

/** Rows of the transactional outbox, read by the relay that publishes them to the bus. */
export class OutboxRepository {
  constructor(private readonly prisma: PrismaClient) {}

  /** Unpublished rows, oldest first. */
  pending(limit: number): Promise<Outbox[]> {
    return this.prisma.outbox.findMany({ where: { publishedAt: null }, orderBy: { id: "asc" }, take: limit });
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

  async markPublished(id: bigint): Promise<void> {
    await this.prisma.outbox.updateMany({ where: { id, publishedAt: null }, data: { publishedAt: new Date() } });
  }

  /** Keeps the row pending (the relay retries it) and records why this attempt failed. */
  async markFailed(id: bigint, error: string): Promise<void> {
    await this.prisma.outbox.updateMany({
      where: { id },
      data: { attempts: { increment: 1 }, lastError: error.slice(0, 2000) },
    });
  }
}
