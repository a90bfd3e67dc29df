import { LRUCache } from "lru-cache";
import { Prisma, type PrismaClient } from "../generated/prisma/client.js";
import { atMostEntries } from "../lru-bounds.js";
import { deriveHandle, withSuffix } from "./handles.js";

/** A user as a channel: what `/c/<handle>` and the owner line of a video show. */
export interface ChannelRow {
  id: string;
  handle: string;
  name: string;
  description: string;
  avatarKey: string | null;
  createdAt: Date;
}

export interface ProfileChange {
  name?: string;
  description?: string;
  handle?: string;
}

export class HandleTakenError extends Error {
  constructor(readonly handle: string) {
    super(`The handle ${handle} is taken`);
    this.name = "HandleTakenError";
  }
}

const CHANNEL_SELECT = {
  id: true,
  handle: true,
  name: true,
  description: true,
  avatarKey: true,
  createdAt: true,
} as const satisfies Prisma.UserSelect;

export interface ChannelDirectoryOptions {
  /**
   * How long an owner's channel stays cached for video replies, in ms. Changes made through
   * this instance show at once; those made through another instance within this time.
   */
  ttlMs?: number;
  max?: number;
}

/**
 * Users as channels: lookups by handle, the owners of a page of videos in one query (cached,
 * since every video reply names its channel), profile and avatar changes, and unique handles
 * for sign-ups that chose none.
 */
export class ChannelDirectory {
  private readonly cache: LRUCache<string, ChannelRow>;

  constructor(
    private readonly prisma: PrismaClient,
    options: ChannelDirectoryOptions = {},
  ) {
    this.cache = new LRUCache({ ...atMostEntries(options.max ?? 10_000), ttl: options.ttlMs ?? 30_000 });
  }

  async byHandle(handle: string): Promise<ChannelRow | null> {
    const row = await this.prisma.user.findUnique({ where: { handle: handle.toLowerCase() }, select: CHANNEL_SELECT });
    if (row) this.cache.set(row.id, row);
    return row;
  }

  async byId(id: string): Promise<ChannelRow | null> {
    const row = await this.prisma.user.findUnique({ where: { id }, select: CHANNEL_SELECT });
    if (row) this.cache.set(row.id, row);
    return row;
  }

  /** The channels of these owners (nulls and unknown ids left out), the missing ones in one query. */
  async owners(ids: readonly (string | null)[]): Promise<Map<string, ChannelRow>> {
    const found = new Map<string, ChannelRow>();
    const missing = new Set<string>();
    for (const id of ids) {
      if (id === null || found.has(id)) continue;
      const hit = this.cache.get(id);
      if (hit) found.set(id, hit);
      else missing.add(id);
    }
    if (missing.size > 0) {
      const rows = await this.prisma.user.findMany({ where: { id: { in: [...missing] } }, select: CHANNEL_SELECT });
      for (const row of rows) {
        this.cache.set(row.id, row);
        found.set(row.id, row);
      }
    }
    return found;
  }

  /** Changes the name, description or handle; a handle in use is a HandleTakenError. */
  async update(userId: string, change: ProfileChange): Promise<ChannelRow | null> {
    try {
      const row = await this.prisma.user.update({
        where: { id: userId },
        data: { ...change, updatedAt: new Date() },
        select: CHANNEL_SELECT,
      });
      this.cache.set(row.id, row);
      return row;
    } catch (err) {
      if (err instanceof Prisma.PrismaClientKnownRequestError) {
        if (err.code === "P2002" && change.handle) throw new HandleTakenError(change.handle);
        if (err.code === "P2025") return null;
      }
      throw err;
    }
  }

  /** Points the user at a new avatar (or none); returns the row and the key it replaced. */
  async setAvatar(userId: string, key: string | null): Promise<{ row: ChannelRow; previousKey: string | null } | null> {
    return this.prisma.$transaction(async (tx) => {
      const before = await tx.user.findUnique({ where: { id: userId }, select: { avatarKey: true } });
      if (!before) return null;
      const row = await tx.user.update({
        where: { id: userId },
        data: { avatarKey: key, updatedAt: new Date() },
        select: CHANNEL_SELECT,
      });
      this.cache.set(row.id, row);
      return { row, previousKey: before.avatarKey };
    });
  }

  /** Whether a handle is free right now (the unique index has the last word). */
  async isFree(handle: string): Promise<boolean> {
    return (await this.prisma.user.count({ where: { handle } })) === 0;
  }

  /** A free handle derived from a name or an address: `base`, else `base-2`, `base-3`… */
  async freeHandleFrom(source: string): Promise<string> {
    const base = deriveHandle(source);
    const taken = new Set(
      (
        await this.prisma.user.findMany({
          where: { OR: [{ handle: base }, { handle: { startsWith: `${base}-` } }] },
          select: { handle: true },
        })
      ).map((u) => u.handle),
    );
    for (let n = 1; ; n++) {
      const candidate = withSuffix(base, n);
      if (!taken.has(candidate)) return candidate;
    }
  }
}
