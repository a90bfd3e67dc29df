import type { VideoUploaded } from "@reelkit/core";
import { Prisma, type Video } from "../generated/prisma/client.js";
import { isUuid } from "./catalog-query.js";
import { recordVideoEvent } from "./video-events.js";
import type { VideoRepository } from "./video-repository.js";

export interface CreateForUploadInput {
  videoId: string;
  uploadId: string;
  title: string;
  description: string;
  filename: string | null;
  ownerId?: string | null;
  /** The upload token the upload was created with, if any. */
  uploadTokenId?: string | null;
  /** What the upload token set (the column defaults otherwise). */
  visibility?: "PUBLIC" | "UNLISTED" | "PRIVATE";
  tags?: string[];
  passthrough?: string | null;
}

/** Who created an upload: its owner, and the upload token used, if any. */
export interface UploadCreator {
  ownerId: string | null;
  uploadTokenId: string | null;
}

export interface FinishUploadInput {
  sourceKey: string;
  sourceSize: bigint | number;
}

export interface FinishUploadResult {
  video: Video;
  /** False when the video had already left UPLOADING (a repeated finish): nothing was queued. */
  queued: boolean;
}

/**
 * A video's life while its bytes arrive: created with its tus upload (UPLOADING), finished into
 * the queue with its `video.uploaded` outbox row in one transaction, failed when it expires,
 * removed when its client cancels. The upload routes and the completion sweeps need only this.
 */
export class UploadLifecycle {
  constructor(private readonly videos: VideoRepository) {}

  private get prisma() {
    return this.videos.prisma;
  }

  /**
   * Creates the UPLOADING row for a new tus upload with its `video.created` event, in one
   * transaction; repeating it returns the existing row (and records nothing).
   */
  async createForUpload(input: CreateForUploadInput): Promise<Video> {
    const create = () =>
      this.prisma.$transaction(async (tx) => {
        const existing = await tx.video.findUnique({ where: { id: input.videoId } });
        if (existing) return { video: existing, created: false };
        const video = await tx.video.create({
          data: {
            id: input.videoId,
            uploadId: input.uploadId,
            title: input.title,
            description: input.description,
            filename: input.filename,
            ownerId: input.ownerId ?? null,
            uploadTokenId: input.uploadTokenId ?? null,
            visibility: input.visibility,
            tags: input.tags,
            passthrough: input.passthrough ?? null,
          },
        });
        await recordVideoEvent(tx, "video.created", video);
        return { video, created: true };
      });
    let result: { video: Video; created: boolean };
    try {
      result = await create();
    } catch (err) {
      // Two requests created it at once: the other one won, and recorded the event.
      if (!(err instanceof Prisma.PrismaClientKnownRequestError && err.code === "P2002")) throw err;
      result = await create();
    }
    if (result.created) await this.videos.changed(result.video);
    return result.video;
  }

  /**
   * UPLOADING -> QUEUED with a new attempt and its `video.uploaded` outbox row, in one
   * transaction, so a finished upload always gets its event. Repeating it changes nothing.
   */
  async finishUpload(videoId: string, input: FinishUploadInput): Promise<FinishUploadResult | null> {
    if (!isUuid(videoId)) return null;
    const result = await this.prisma.$transaction(async (tx) => {
      const { count } = await tx.video.updateMany({
        where: { id: videoId, status: "UPLOADING" },
        data: {
          status: "QUEUED",
          attempt: { increment: 1 },
          progress: 0,
          sourceKey: input.sourceKey,
          sourceSize: BigInt(input.sourceSize),
          failureReason: null,
        },
      });
      const video = await tx.video.findUnique({ where: { id: videoId } });
      if (!video) return null;
      if (count === 0) return { video, queued: false };
      const payload: VideoUploaded = {
        videoId,
        attempt: video.attempt,
        sourceKey: input.sourceKey,
        ...(video.ownerId ? { ownerId: video.ownerId } : {}),
      };
      await tx.outbox.create({ data: { topic: "video.uploaded", key: videoId, payload: { ...payload } } });
      await recordVideoEvent(tx, "video.uploaded", video);
      return { video, queued: true };
    });
    if (result?.queued) await this.videos.changed(result.video);
    return result;
  }

  /** UPLOADING -> FAILED with a reason (an upload that can no longer finish); null when not UPLOADING. */
  failUpload(videoId: string, reason: string): Promise<Video | null> {
    return this.videos.updateWhere(
      videoId,
      { status: "UPLOADING" },
      { status: "FAILED", failureReason: reason },
      { type: "video.failed" },
    );
  }

  /** Removes the video of an upload its client cancelled (with its `video.deleted` event); a video past UPLOADING is kept. */
  async cancelUpload(videoId: string): Promise<boolean> {
    if (!isUuid(videoId)) return false;
    const deleted = await this.prisma.$transaction(async (tx) => {
      const video = await tx.video.findUnique({ where: { id: videoId } });
      if (!video) return false;
      const { count } = await tx.video.deleteMany({ where: { id: videoId, status: "UPLOADING" } });
      if (count === 0) return false;
      await recordVideoEvent(tx, "video.deleted", video);
      return true;
    });
    if (deleted) await this.videos.changed({ id: videoId, status: null });
    return deleted;
  }

  /** Owner and upload token of the video created for a tus upload; null when there is none. */
  uploadCreator(uploadId: string): Promise<UploadCreator | null> {
    return this.prisma.video.findUnique({ where: { uploadId }, select: { ownerId: true, uploadTokenId: true } });
  }

  /** How many uploads of this owner have not finished yet (the per-user cap); upload tokens' count per API key. */
  countUploading(ownerId: string): Promise<number> {
    return this.prisma.video.count({ where: { ownerId, status: "UPLOADING", uploadTokenId: null } });
  }

  /** Videos still UPLOADING whose upload token expired before `expiredBefore`, oldest first. */
  listTokenExpiredUploads(expiredBefore: Date): Promise<{ id: string; uploadId: string | null }[]> {
    return this.prisma.$queryRaw<{ id: string; uploadId: string | null }[]>`
      SELECT v.id::text AS id, v.upload_id AS "uploadId"
        FROM video v JOIN upload_token t ON t.id = v.upload_token_id
       WHERE v.status = 'UPLOADING' AND t.expires_at < ${expiredBefore}
       ORDER BY v.created_at`;
  }

  /** Videos still waiting for their upload to finish (id, tus upload id, creation time), oldest first. */
  listUploading(): Promise<{ id: string; uploadId: string | null; createdAt: Date }[]> {
    return this.prisma.video.findMany({
      where: { status: "UPLOADING" },
      select: { id: true, uploadId: true, createdAt: true },
      orderBy: { createdAt: "asc" },
    });
  }
}
