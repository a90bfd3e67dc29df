import { keys, type TranscodePlayable, type TranscodeReady } from "@reelkit/core";
import type { Video } from "@reelkit/sdk/contract";
import * as tus from "tus-js-client";

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

/** Uploads `data` through tus in one go; resolves with the video id. */
export function uploadFile(base: string, data: Buffer, title: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let videoId: string | null = null;
    new tus.Upload(data, {
      endpoint: `${base}/api/uploads`,
      chunkSize: 8 * 1024 * 1024,
      retryDelays: [],
      metadata: { filename: `${title}.mp4`, title },
      onAfterResponse: (req, res) => {
        if (req.getMethod() === "POST") videoId = res.getHeader("Reelkit-Video-Id") ?? null;
      },
      onError: reject,
      onSuccess: () => (videoId ? resolve(videoId) : reject(new Error("no Reelkit-Video-Id header"))),
    }).start();
  });
}
