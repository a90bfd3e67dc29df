import type { Outbox, PrismaClient } from "../generated/prisma/client.js";

/** Rows of the transactional outbox, read by the relay that publishes them to the bus. */
export class OutboxRepository {
  constructor(private readonly prisma: PrismaClient) {}

  /** Unpublished rows, oldest first. */
  pending(limit: number): Promise<Outbox[]> {
    return this.prisma.outbox.findMany({ where: { publishedAt: null }, orderBy: { id: "asc" }, take: limit });
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
