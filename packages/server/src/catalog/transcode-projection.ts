import type {
  TranscodeFailed,
  TranscodePlayable,
  TranscodeProgress,
  TranscodeReady,
  VideoUploaded,
} from "@reelkit/core";
import type { Video } from "../generated/prisma/client.js";
import { isUuid } from "./catalog-query.js";
import { ACTIVE, type VideoRepository } from "./video-repository.js";

/**
 * The transcoder's events applied to the catalog. Each is a conditional update on the video's
 * attempt and an active status, so a duplicate or stale (older attempt) event changes nothing;
 * READY and FAILED are final. Also queues an active video again when nothing owns its work.
 */
export class TranscodeProjection {
  constructor(private readonly videos: VideoRepository) {}

  /** QUEUED/PROCESSING -> PROCESSING with the new percent; stale attempts and regressions are ignored. */
  applyProgress(event: TranscodeProgress): Promise<Video | null> {
    const percent = Math.max(0, Math.min(100, event.percent));
    return this.videos.updateWhere(
      event.videoId,
      { attempt: event.attempt, status: { in: [...ACTIVE] }, progress: { lte: percent } },
      { status: "PROCESSING", progress: percent },
    );
  }

  /**
   * QUEUED/PROCESSING -> PROCESSING with the master playlist and (nominal) renditions: the video
   * plays while it is still encoded. A set `masterKey` before READY is what "playable" means.
   */
  applyPlayable(event: TranscodePlayable): Promise<Video | null> {
    return this.videos.updateWhere(
      event.videoId,
      { attempt: event.attempt, status: { in: [...ACTIVE] } },
      {
        status: "PROCESSING",
        duration: event.durationSec,
        width: event.width,
        height: event.height,
        frameRate: event.frameRate,
        renditions: event.renditions.map((r) => ({ ...r })),
        masterKey: event.masterKey,
      },
      // A repeated playable event (a redelivery) is not news; a new attempt's first one is not either.
      { type: "video.playable", when: (before) => before.masterKey === null },
    );
  }

  async applyReady(event: TranscodeReady): Promise<Video | null> {
    const video = await this.videos.updateWhere(
      event.videoId,
      { attempt: event.attempt, status: { in: [...ACTIVE] } },
      {
        status: "READY",
        progress: 100,
        failureReason: null,
        duration: event.durationSec,
        width: event.width,
        height: event.height,
        frameRate: event.frameRate,
        renditions: event.renditions.map((r) => ({ ...r })),
        masterKey: event.masterKey,
        posterKey: event.posterKey,
        storyboardKey: event.storyboardKey,
        storyboardVttKey: event.storyboardVttKey,
        publishedAt: new Date(),
      },
      { type: "video.ready" },
    );
    const chapters = (event.chapters ?? [])
      .filter((c) => c.startTime < event.durationSec)
      .map((c) => ({ title: c.title.trim().slice(0, 200) || "Chapter", startTime: c.startTime }));
    if (!video || chapters.length === 0) return video;
    // The source's chapters, unless the owner has set some already (they win).
    return (
      (await this.videos.updateWhere(video.id, { chapters: { equals: [] } }, { chapters: chapters as object[] })) ??
      video
    );
  }

  applyFailed(event: TranscodeFailed): Promise<Video | null> {
    return this.videos.updateWhere(
      event.videoId,
      { attempt: event.attempt, status: { in: [...ACTIVE] } },
      { status: "FAILED", failureReason: event.reason },
      { type: "video.failed" },
    );
  }

  /**
   * Queues an active video again (a new attempt, so events of the old one are ignored) with its
   * `video.uploaded` outbox row, in one transaction; only when it is still at `attempt` and
   * QUEUED/PROCESSING. Returns the queued row or null.
   */
  async requeue(videoId: string, attempt: number): Promise<Video | null> {
    if (!isUuid(videoId)) return null;
    const video = await this.videos.prisma.$transaction(async (tx) => {
      const { count } = await tx.video.updateMany({
        where: { id: videoId, attempt, status: { in: [...ACTIVE] }, sourceKey: { not: null } },
        data: { status: "QUEUED", attempt: { increment: 1 }, progress: 0 },
      });
      if (count === 0) return null;
      const row = await tx.video.findUnique({ where: { id: videoId } });
      if (!row?.sourceKey) return null;
      const payload: VideoUploaded = {
        videoId,
        attempt: row.attempt,
        sourceKey: row.sourceKey,
        ...(row.ownerId ? { ownerId: row.ownerId } : {}),
      };
      await tx.outbox.create({ data: { topic: "video.uploaded", key: videoId, payload: { ...payload } } });
      return row;
    });
    if (video) await this.videos.changed(video);
    return video;
  }

  /** QUEUED/PROCESSING videos last changed before `before`, oldest first. */
  listActive(before: Date, limit = 500): Promise<{ id: string; attempt: number; status: string }[]> {
    return this.videos.prisma.video.findMany({
      where: { status: { in: [...ACTIVE] }, updatedAt: { lt: before } },
      select: { id: true, attempt: true, status: true },
      orderBy: { updatedAt: "asc" },
      take: limit,
    });
  }
}
