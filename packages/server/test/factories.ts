import { randomUUID } from "node:crypto";
import { keys, type TranscodePlayable, type TranscodeReady } from "@reelkit/core";
import type { Video } from "@reelkit/sdk/contract";
import type { CatalogService } from "../src/catalog/catalog-service.js";
import type { UploadCatalog } from "../src/uploads/upload-routes.js";

/** `video.transcode.playable` for the same single rung as `readyEvent`, with nominal rates. */
export function playableEvent(videoId: string, attempt: number): TranscodePlayable {
  const { posterKey: _p, storyboardKey: _s, storyboardVttKey: _v, ...ready } = readyEvent(videoId, attempt);
  return { ...ready, renditions: ready.renditions.map((r) => ({ ...r, bandwidth: 578_000 })), passthrough: false };
}

/** The transcoder's ready event for a one-rung (180p) ladder of a 3 s clip. */
export function readyEvent(videoId: string, attempt: number): TranscodeReady {
  return {
    videoId,
    attempt,
    durationSec: 3,
    width: 320,
    height: 180,
    frameRate: 25,
    hasAudio: true,
    renditions: [
      {
        name: "180p",
        width: 320,
        height: 180,
        bandwidth: 300_000,
        averageBandwidth: 250_000,
        codecs: "avc1.64000d,mp4a.40.2",
        frameRate: 25,
        playlistKey: `videos/${videoId}/hls/180p/index.m3u8`,
      },
    ],
    masterKey: keys.master(videoId),
    posterKey: keys.poster(videoId),
    storyboardKey: keys.storyboard(videoId),
    storyboardVttKey: keys.storyboardVtt(videoId),
  };
}

export interface VideoInput {
  title: string;
  description?: string;
}

/** A video that finished uploading and waits for the transcoder (attempt 1); returns its id. */
export async function makeQueuedVideo(catalog: CatalogService, { title, description = "" }: VideoInput) {
  const videoId = randomUUID();
  await catalog.createForUpload({ videoId, uploadId: videoId, title, description, filename: "clip.mp4" });
  await catalog.finishUpload(videoId, { sourceKey: keys.source(videoId), sourceSize: 1024 });
  return videoId;
}

/** A published video with a 3 s, one-rung ladder; returns its id. */
export async function makeReadyVideo(catalog: CatalogService, input: VideoInput) {
  const videoId = await makeQueuedVideo(catalog, input);
  await catalog.applyReady(readyEvent(videoId, 1));
  return videoId;
}

/** Records what the upload flow asks of the catalog; videos not finished, cancelled or failed are UPLOADING. */
export function recordingCatalog() {
  const created: Parameters<UploadCatalog["createForUpload"]>[0][] = [];
  const createdAt = new Map<string, Date>();
  const finished: { videoId: string; sourceKey: string; sourceSize: number }[] = [];
  const cancelled: string[] = [];
  const failed: { videoId: string; reason: string }[] = [];
  const catalog: UploadCatalog = {
    createForUpload: async (input) => {
      created.push(input);
      createdAt.set(input.videoId, new Date());
    },
    finishUpload: async (videoId, source) => {
      finished.push({ videoId, ...source });
    },
    listUploading: async () =>
      created
        .map((c) => c.videoId)
        .filter(
          (id) =>
            !finished.some((f) => f.videoId === id) && !cancelled.includes(id) && !failed.some((f) => f.videoId === id),
        )
        .map((id) => ({ id, uploadId: id, createdAt: createdAt.get(id) as Date })),
    failUpload: async (videoId, reason) => {
      failed.push({ videoId, reason });
    },
    cancelUpload: async (videoId) => {
      cancelled.push(videoId);
    },
  };
  return { catalog, created, finished, cancelled, failed };
}

/** GET /api/videos/:id from a running server. */
export async function getVideo(base: string, id: string): Promise<Video> {
  const res = await fetch(`${base}/api/videos/${id}`);
  if (res.status !== 200) throw new Error(`GET /api/videos/${id}: ${res.status}`);
  return (await res.json()) as Video;
}

/** Polls a video until `done` holds (or fails naming its last state). */
export async function waitForVideo(
  base: string,
  id: string,
  done: (v: Video) => boolean,
  timeoutMs = 120_000,
): Promise<Video> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const video = await getVideo(base, id);
    if (done(video)) return video;
    if (Date.now() > deadline) throw new Error(`video ${id} still ${video.status} (${video.progress}%)`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export const settled = (v: Video) => v.status === "READY" || v.status === "FAILED";
