import { Prisma, type Video } from "../generated/prisma/client.js";
import type { Visibility } from "../generated/prisma/enums.js";
import { isUuid } from "./catalog-query.js";
import { recordVideoEvent } from "./video-events.js";
import type { VideoRepository } from "./video-repository.js";

export interface UpdateInput {
  title?: string;
  description?: string;
  visibility?: Visibility;
  tags?: string[];
  downloads?: boolean;
  /** The poster: a frame the owner chose (its key and time), or the transcoder's (time null). */
  poster?: { key: string | null; time: number | null };
}

/** An owner's edits: details and visibility, and deletion (the caller removes the media). */
export class VideoEdits {
  constructor(private readonly videos: VideoRepository) {}

  async update(id: string, input: UpdateInput): Promise<Video | null> {
    if (!isUuid(id)) return null;
    const data: Prisma.VideoUpdateInput = {};
    if (input.title !== undefined) data.title = input.title;
    if (input.description !== undefined) data.description = input.description;
    if (input.visibility !== undefined) data.visibility = input.visibility;
    if (input.tags !== undefined) data.tags = normalizeTags(input.tags);
    if (input.downloads !== undefined) data.downloads = input.downloads;
    if (input.poster !== undefined) {
      data.posterKey = input.poster.key;
      data.posterTime = input.poster.time;
    }
    return this.orNullWhenMissing(async () => {
      const video = await this.videos.prisma.$transaction(async (tx) => {
        const row = await tx.video.update({ where: { id }, data });
        await recordVideoEvent(tx, "video.updated", row);
        return row;
      });
      await this.videos.changed(video);
      return video;
    });
  }

  /**
   * Replaces one JSON list of the video (`captions`, `chapters`) with what `change` makes of the
   * current one, under the row's lock: two owners' requests at once never lose one another's
   * track. `change` may throw to abort (nothing written). Null when there is no such video.
   */
  async updateList<T>(
    id: string,
    column: "captions" | "chapters",
    change: (current: T[], video: Video) => T[],
  ): Promise<Video | null> {
    if (!isUuid(id)) return null;
    const video = await this.videos.prisma.$transaction(async (tx) => {
      const rows = await tx.$queryRaw<{ id: string }[]>(
        Prisma.sql`SELECT "id"::text AS "id" FROM "video" WHERE "id" = ${id}::uuid FOR UPDATE`,
      );
      if (rows.length === 0) return null;
      const current = await tx.video.findUniqueOrThrow({ where: { id } });
      const list = (Array.isArray(current[column]) ? current[column] : []) as unknown as T[];
      const next = change(list, current) as unknown as Prisma.InputJsonValue;
      return tx.video.update({ where: { id }, data: { [column]: next } });
    });
    if (video) await this.videos.changed(video);
    return video;
  }

  /** Deletes the row; returns what was deleted (the caller removes its media) or null. */
  async delete(id: string): Promise<Video | null> {
    if (!isUuid(id)) return null;
    return this.orNullWhenMissing(async () => {
      const video = await this.videos.prisma.$transaction(async (tx) => {
        const row = await tx.video.delete({ where: { id } });
        await recordVideoEvent(tx, "video.deleted", row);
        return row;
      });
      await this.videos.changed({ id, status: null });
      return video;
    });
  }

  private async orNullWhenMissing(write: () => Promise<Video>): Promise<Video | null> {
    try {
      return await write();
    } catch (err) {
      if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === "P2025") return null;
      throw err;
    }
  }
}

/** Tags as stored: trimmed, lower-case, without duplicates or empties, in the given order. */
export function normalizeTags(tags: string[]): string[] {
  return [...new Set(tags.map((t) => t.trim().toLowerCase()).filter(Boolean))];
}
