import { execFileSync } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { text } from "node:stream/consumers";
import { HeadObjectCommand } from "@aws-sdk/client-s3";
import { loadConfig, objectHeaders } from "@reelkit/core";
import type { Video } from "@reelkit/sdk/contract";
import { resolveBinaries } from "@reelkit/transcoder";
import HLS from "hls-parser";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeWith, s3TestEngine } from "../../../test/engines.js";
import { createTestBucket, type TestBucket } from "../../../test/s3.js";
import { createEmbeddedRuntime, type EmbeddedRuntime } from "../src/runtime.js";
import { signUp, type TestUser } from "./factories.js";
import { tusUpload } from "./tus-upload.js";

// The embedded runtime (PGlite, in-process bus, inline transcoder) with every byte in an S3
// bucket: tus into S3 multipart, the source copied server-side, the transcoder reading the source
// from S3 and writing the ladder back, /media serving a private bucket, delete emptying it.

const { engine, missing } = s3TestEngine();

describeWith("s3", missing, "embedded pipeline on S3 storage", () => {
  const bin = resolveBinaries({ ffmpegPath: null, ffprobePath: null });
  let bucket: TestBucket;
  let dataDir: string;
  let runtime: EmbeddedRuntime | null = null;
  let base = "";
  let user: TestUser;
  let id = "";

  beforeAll(async () => {
    bucket = await createTestBucket(engine as NonNullable<typeof engine>);
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "reelkit-s3-e2e-"));
    const config = loadConfig({
      ...bucket.env,
      REELKIT_DATA_DIR: dataDir,
      REELKIT_LOG_LEVEL: "silent",
      REELKIT_RUNGS: "360,180",
    });
    runtime = await createEmbeddedRuntime(config);
    base = await runtime.app.listen({ port: 0, host: "127.0.0.1" });
    user = await signUp(base);
  }, 120_000);

  afterAll(async () => {
    await runtime?.close();
    await bucket?.drop();
    if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
  });

  const getVideo = async (videoId: string) => (await (await fetch(`${base}/api/videos/${videoId}`)).json()) as Video;

  it("uploads into the bucket and transcodes to READY with every object stored there", async () => {
    const clip = path.join(dataDir, "harbour.mp4");
    execFileSync(bin.ffmpeg, [
      ...["-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25:duration=4"],
      ...["-f", "lavfi", "-i", "sine=frequency=330:duration=4"],
      ...["-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", clip],
    ]);
    const bytes = await fs.readFile(clip);
    id = (await tusUpload(base, bytes, { filename: "harbour.mp4" }, 5 * 1024 * 1024 + 7, user.bearer))
      .videoId as string;
    const deadline = Date.now() + 120_000;
    let video = await getVideo(id);
    while (video.status !== "READY" && video.status !== "FAILED" && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      video = await getVideo(id);
    }
    expect(video.failureReason).toBeNull();
    expect(video.status).toBe("READY");
    expect(video.renditions.map((r) => r.height)).toEqual([360, 180]);
    // A private bucket is played through the server.
    expect(video.playbackUrl).toBe(`/media/videos/${id}/hls/master.m3u8`);

    const stored = await bucket.storage.list(`videos/${id}/`);
    const names = stored.map((o) => o.key.slice(`videos/${id}/`.length));
    expect(names).toEqual(
      expect.arrayContaining([
        "source",
        "hls/master.m3u8",
        "hls/360p/index.m3u8",
        "hls/360p/init.mp4",
        "hls/180p/index.m3u8",
        "hls/audio/index.m3u8",
        "poster.jpg",
        "storyboard.jpg",
        "storyboard.vtt",
      ]),
    );
    expect((await bucket.storage.stat(`videos/${id}/source`))?.size).toBe(bytes.length);
    // Nothing is left of the tus upload, and nothing of the pipeline is on local disk.
    expect(await bucket.storage.list("uploads/")).toEqual([]);
    expect(await fs.readdir(path.join(dataDir, "media")).catch(() => [])).toEqual([]);

    // Each object carries the headers of its kind, so a CDN could serve the bucket as it is.
    for (const o of stored) {
      const head = await bucket.client.send(new HeadObjectCommand({ Bucket: bucket.name, Key: o.key }));
      const want = objectHeaders(o.key);
      expect([o.key, head.ContentType, head.CacheControl]).toEqual([o.key, want.contentType, want.cacheControl]);
    }

    // Valid playlists, read from the bucket, naming only objects that exist.
    const master = HLS.parse(await text(await bucket.storage.get(`videos/${id}/hls/master.m3u8`)));
    if (!master.isMasterPlaylist) throw new Error("master.m3u8 is not a master playlist");
    expect(master.variants).toHaveLength(2);
    const keys = new Set(stored.map((o) => o.key));
    for (const variant of master.variants) {
      const playlistKey = `videos/${id}/hls/${variant.uri}`;
      const media = HLS.parse(await text(await bucket.storage.get(playlistKey)));
      if (media.isMasterPlaylist) throw new Error(`${variant.uri} is not a media playlist`);
      expect(media.endlist).toBe(true);
      expect(media.segments.length).toBeGreaterThan(0);
      const dir = playlistKey.slice(0, playlistKey.lastIndexOf("/") + 1);
      for (const segment of media.segments) expect(keys.has(`${dir}${segment.uri}`)).toBe(true);
    }

    // Through the server: the playlist, and a segment by range.
    const masterRes = await fetch(`${base}${video.playbackUrl}`);
    expect(masterRes.status).toBe(200);
    expect(masterRes.headers.get("content-type")).toBe("application/vnd.apple.mpegurl");
    const segmentKey = stored.find((o) => o.key.endsWith(".m4s"))?.key as string;
    const ranged = await fetch(`${base}/media/${segmentKey}`, { headers: { Range: "bytes=0-99" } });
    expect(ranged.status).toBe(206);
    expect(ranged.headers.get("content-range")).toMatch(/^bytes 0-99\/\d+$/);
    expect((await ranged.arrayBuffer()).byteLength).toBe(100);
    expect((await fetch(`${base}/media/videos/${id}/source`)).status).toBe(404);

    // What happened is in /metrics.
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/reelkit_uploads_total\{[^}]*event="created"[^}]*\} 1\n/);
    expect(metrics).toMatch(/reelkit_uploads_total\{[^}]*event="finished"[^}]*\} 1\n/);
    expect(metrics).toMatch(/reelkit_transcode_jobs_total\{[^}]*outcome="ready"[^}]*\} 1\n/);
    expect(metrics).toMatch(/reelkit_transcode_job_duration_seconds_count\{[^}]*outcome="ready"[^}]*\} 1\n/);
    expect(metrics).toMatch(/reelkit_queue_lag_seconds\{[^}]*\} 0\n/);
    expect(metrics).toMatch(
      /reelkit_http_request_duration_seconds_count\{[^}]*route="\/api\/uploads\/\*",status_code="204"[^}]*\} \d+/,
    );
  }, 180_000);

  it("deletes the video and every object it had", async () => {
    const res = await fetch(`${base}/api/videos/${id}`, { method: "DELETE", headers: user.bearer });
    expect(res.status).toBe(204);
    expect(await bucket.storage.list(`videos/${id}/`)).toEqual([]);
    expect((await fetch(`${base}/media/videos/${id}/hls/master.m3u8`)).status).toBe(404);
  });
});
