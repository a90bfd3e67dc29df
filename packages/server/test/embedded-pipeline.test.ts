import { execFileSync } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { loadConfig } from "@reelkit/core";
import type { Video, VideoList } from "@reelkit/sdk/contract";
import { resolveBinaries } from "@reelkit/transcoder";
import HLS from "hls-parser";
import * as tus from "tus-js-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEmbeddedRuntime, type EmbeddedRuntime } from "../src/runtime.js";
import { signUp, type TestUser } from "./factories.js";

// The whole embedded default over real HTTP: tus upload -> catalog -> outbox -> in-process bus ->
// real ffmpeg -> HLS in local storage -> catalog READY -> media delivery, search, delete.

const bin = resolveBinaries({ ffmpegPath: null, ffprobePath: null });
let dataDir: string;
let clip: string;
let longClip: string;
let runtime: EmbeddedRuntime | null = null;
let base = "";
let user: TestUser;

async function start(): Promise<void> {
  const config = loadConfig({ REELKIT_DATA_DIR: dataDir, REELKIT_LOG_LEVEL: "silent" });
  runtime = await createEmbeddedRuntime(config);
  base = await runtime.app.listen({ port: 0, host: "127.0.0.1" });
}

async function stop(): Promise<void> {
  await runtime?.close();
  runtime = null;
}

function upload(file: Buffer, metadata: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    let videoId: string | null = null;
    const u = new tus.Upload(file, {
      endpoint: `${base}/api/uploads`,
      chunkSize: 256 * 1024,
      retryDelays: [],
      headers: user.bearer,
      metadata,
      onAfterResponse: (req, res) => {
        if (req.getMethod() === "POST") videoId = res.getHeader("Reelkit-Video-Id") ?? null;
      },
      onError: reject,
      onSuccess: () => (videoId ? resolve(videoId) : reject(new Error("no Reelkit-Video-Id header"))),
    });
    u.start();
  });
}

async function getVideo(id: string): Promise<Video> {
  const res = await fetch(`${base}/api/videos/${id}`);
  expect(res.status).toBe(200);
  return (await res.json()) as Video;
}

async function waitFor(id: string, statuses: Video["status"][], timeoutMs = 120_000): Promise<Video> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const video = await getVideo(id);
    if (statuses.includes(video.status)) return video;
    if (Date.now() > deadline) throw new Error(`video ${id} still ${video.status} (${video.progress}%)`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

beforeAll(async () => {
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "reelkit-e2e-"));
  clip = path.join(dataDir, "harbour.mp4");
  execFileSync(bin.ffmpeg, [
    ...["-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25:duration=5"],
    ...["-f", "lavfi", "-i", "sine=frequency=330:duration=5"],
    ...["-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", clip],
  ]);
  // Long enough that the restart below lands mid-encode.
  longClip = path.join(dataDir, "long.mp4");
  execFileSync(bin.ffmpeg, [
    ...["-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30:duration=40"],
    ...["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", longClip],
  ]);
  await start();
  user = await signUp(base);
}, 180_000);

afterAll(async () => {
  await stop();
  await fs.rm(dataDir, { recursive: true, force: true });
});

describe("embedded pipeline: upload -> transcode -> catalog -> HLS", () => {
  let id = "";

  it("turns a tus upload into a READY adaptive HLS video", async () => {
    id = await upload(await fs.readFile(clip), {
      filename: "harbour.mp4",
      title: "Harbour sunrise timelapse",
      description: "Fishing boats leaving at dawn",
    });
    const video = await waitFor(id, ["READY", "FAILED"]);
    expect(video.failureReason).toBeNull();
    expect(video.status).toBe("READY");
    expect(video.progress).toBe(100);
    expect(video.duration).toBeCloseTo(5, 0);
    expect([video.width, video.height]).toEqual([640, 360]);
    expect(video.renditions.map((r) => r.height)).toEqual([360, 180]);
    expect(video.playbackUrl).toBe(`/media/videos/${id}/hls/master.m3u8`);

    const masterRes = await fetch(`${base}${video.playbackUrl}`);
    expect(masterRes.status).toBe(200);
    expect(masterRes.headers.get("content-type")).toContain("mpegurl");
    const master = HLS.parse(await masterRes.text()) as HLS.types.MasterPlaylist;
    expect(master.isMasterPlaylist).toBe(true);
    expect(master.variants.length).toBe(video.renditions.length);
    for (const variant of master.variants) {
      expect(variant.bandwidth).toBeGreaterThan(0);
      expect(variant.codecs).toMatch(/avc1\..+mp4a\.40\.2|mp4a\.40\.2.+avc1\./);
      const variantUrl = new URL(variant.uri, `${base}${video.playbackUrl}`);
      const media = HLS.parse(await (await fetch(variantUrl)).text()) as HLS.types.MediaPlaylist;
      expect(media.playlistType).toBe("EVENT");
      expect(media.endlist).toBe(true);
      expect(media.segments.length).toBeGreaterThan(0);
      for (const segment of media.segments) {
        const res = await fetch(new URL(segment.uri, variantUrl));
        expect(res.status).toBe(200);
        expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(0);
      }
    }
    for (const url of [video.posterUrl, video.storyboardUrl, video.storyboardVttUrl]) {
      expect(url).not.toBeNull();
      expect((await fetch(`${base}${url}`)).status).toBe(200);
    }
  });

  it("lists it and finds it by a misspelt title word", async () => {
    const list = (await (await fetch(`${base}/api/videos`)).json()) as VideoList;
    expect(list.items.map((v) => v.id)).toContain(id);
    const found = (await (await fetch(`${base}/api/videos?q=harbuor`)).json()) as VideoList;
    expect(found.items.map((v) => v.id)).toContain(id);
    const none = (await (await fetch(`${base}/api/videos?q=volcano`)).json()) as VideoList;
    expect(none.items.map((v) => v.id)).not.toContain(id);
  });

  it("fails undecodable input with a readable reason and keeps serving", async () => {
    const bad = await upload(Buffer.from("this is not a video at all, just some words".repeat(100)), {
      filename: "notes.mp4",
      title: "Not a video",
    });
    const video = await waitFor(bad, ["READY", "FAILED"]);
    expect(video.status).toBe("FAILED");
    expect(video.failureReason).toMatch(/[a-z]{3,}/i);
    expect(video.playbackUrl).toBeNull();
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });

  it("finishes a transcode interrupted by a restart", async () => {
    const again = await upload(await fs.readFile(longClip), { filename: "again.mp4", title: "Restart survivor" });
    const before = await waitFor(again, ["PROCESSING", "READY"], 60_000);
    expect(before.status).toBe("PROCESSING");
    await stop();
    await start();
    const video = await waitFor(again, ["READY", "FAILED"], 240_000);
    expect(video.status).toBe("READY");
    expect(video.renditions.map((r) => r.height)).toEqual([720, 480, 360, 180]);
  }, 300_000);

  it("deletes the video and every file it had", async () => {
    const res = await fetch(`${base}/api/videos/${id}`, { method: "DELETE", headers: user.bearer });
    expect(res.status).toBeLessThan(300);
    expect((await fetch(`${base}/api/videos/${id}`)).status).toBe(404);
    expect((await fetch(`${base}/media/videos/${id}/hls/master.m3u8`)).status).toBe(404);
    expect(await runtime?.storage.list(`videos/${id}/`)).toEqual([]);
  });
});
