import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import type { Video } from "@reelkit/sdk/contract";
import { resolveBinaries } from "@reelkit/transcoder";
import HLS from "hls-parser";
import * as tus from "tus-js-client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { describeWith, s3TestEngine } from "../../../test/engines.js";
import { createTestBucket } from "../../../test/s3.js";
import { signUp } from "./factories.js";
import { ServerProcess } from "./server-process.js";
import { uploadFile } from "./tus-upload.js";

// Crash recovery with a real `reelkit-server` process (embedded mode: embedded PostgreSQL, local storage,
// in-process transcoder) killed with SIGKILL: no shutdown hook runs, exactly like a power cut
// of the process (the kernel keeps what was written to files).

const bin = resolveBinaries({ ffmpegPath: null, ffprobePath: null });
let work: string;
const servers: ServerProcess[] = [];

async function startServer(dataDir: string, port = 0): Promise<ServerProcess> {
  const server = await ServerProcess.start({ env: { REELKIT_DATA_DIR: dataDir, PORT: String(port) } });
  servers.push(server);
  return server;
}

function sha256(data: Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

function ffmpeg(args: string[]): void {
  execFileSync(bin.ffmpeg, ["-v", "error", "-y", ...args]);
}

async function getVideo(base: string, id: string): Promise<Video> {
  const res = await fetch(`${base}/api/videos/${id}`);
  expect(res.status).toBe(200);
  return (await res.json()) as Video;
}

async function waitFor(
  base: string,
  id: string,
  done: (v: Video) => boolean,
  { timeoutMs = 60_000, intervalMs = 100 } = {},
): Promise<Video> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const video = await getVideo(base, id);
    if (done(video)) return video;
    if (Date.now() > deadline) throw new Error(`video ${id} still ${video.status} (${video.progress}%)`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Uploads `data` in one go and resolves with the video id. */
beforeAll(async () => {
  work = await fs.mkdtemp(path.join(os.tmpdir(), "reelkit-crash-"));
}, 30_000);

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.destroy()));
});

afterAll(async () => {
  await Promise.all(servers.splice(0).map((s) => s.destroy()));
  await fs.rm(work, { recursive: true, force: true });
});

describe("crash recovery of a real server process (SIGKILL)", () => {
  it("resumes an upload interrupted by a crash and keeps the source byte-exact", async () => {
    // Lossless noise: ~30 MB for 3 s of 640x360, so the kill lands mid-upload, yet cheap to transcode.
    const clip = path.join(work, "noise.mp4");
    ffmpeg([
      ...["-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25:duration=3,noise=alls=60:allf=t"],
      ...["-f", "lavfi", "-i", "sine=frequency=330:duration=3"],
      ...["-c:v", "libx264", "-preset", "ultrafast", "-qp", "0", "-pix_fmt", "yuv420p", "-c:a", "aac", clip],
    ]);
    const data = await fs.readFile(clip);
    expect(data.length).toBeGreaterThan(20 * 1024 * 1024);
    const dataDir = path.join(work, "upload-crash");
    const first = await startServer(dataDir);
    const user = await signUp(first.base);

    // Kill the server while a PATCH body is streaming, somewhere past 40 % of the file.
    let videoId: string | null = null;
    const interrupted = await new Promise<{ url: string; error: Error }>((resolve, reject) => {
      let killed = false;
      const upload = new tus.Upload(data, {
        endpoint: `${first.base}/api/uploads`,
        chunkSize: 16 * 1024 * 1024,
        retryDelays: [],
        headers: user.bearer,
        metadata: { filename: "noise.mp4", title: "Crash during upload" },
        onAfterResponse: (req, res) => {
          if (req.getMethod() === "POST") videoId = res.getHeader("Reelkit-Video-Id") ?? null;
        },
        onProgress: (sent) => {
          if (!killed && sent > data.length * 0.4) {
            killed = true;
            void first.crash();
          }
        },
        onError: (error) => (upload.url ? resolve({ url: upload.url, error }) : reject(error)),
        onSuccess: () => reject(new Error("the upload finished before the crash")),
      });
      upload.start();
    });
    expect(interrupted.error).toBeInstanceOf(Error);
    expect(videoId).not.toBeNull();
    const id = videoId as unknown as string;
    const uploadPath = new URL(interrupted.url).pathname;

    // Same data directory, same port: the upload URL the client holds is valid again, and so is
    // its session (the generated secret is kept in the data directory).
    const second = await startServer(dataDir, first.port);
    const url = `${second.base}${uploadPath}`;
    const head = await fetch(url, { method: "HEAD", headers: { "Tus-Resumable": "1.0.0", ...user.bearer } });
    expect(head.status).toBe(200);
    const offset = Number(head.headers.get("upload-offset"));
    expect(offset).toBeGreaterThan(0);
    expect(offset).toBeLessThan(data.length);
    expect(Number(head.headers.get("upload-length"))).toBe(data.length);
    expect((await getVideo(second.base, id)).status).toBe("UPLOADING");

    // tus-js-client resumes from the stored offset (HEAD, then PATCH at that offset).
    const patchOffsets: number[] = [];
    await new Promise<void>((resolve, reject) => {
      new tus.Upload(data, {
        uploadUrl: url,
        chunkSize: 16 * 1024 * 1024,
        retryDelays: [],
        headers: user.bearer,
        onBeforeRequest: (req) => {
          if (req.getMethod() === "PATCH") patchOffsets.push(Number(req.getHeader("Upload-Offset")));
        },
        onError: reject,
        onSuccess: () => resolve(),
      }).start();
    });
    expect(patchOffsets[0]).toBe(offset);

    const video = await waitFor(second.base, id, (v) => v.status === "READY" || v.status === "FAILED");
    expect(video.failureReason).toBeNull();
    expect(video.status).toBe("READY");
    const stored = await fs.readFile(path.join(dataDir, "media", "videos", id, "source"));
    expect(stored.length).toBe(data.length);
    expect(sha256(stored)).toBe(sha256(data));
  }, 90_000);

  it("finishes a transcode interrupted by a crash with a complete ladder", async () => {
    // 480p with a 3-rung ladder: several seconds of encoding, so the kill lands mid-encode.
    const clip = path.join(work, "ladder.mp4");
    const seconds = 14;
    ffmpeg([
      ...["-f", "lavfi", "-i", `testsrc2=size=854x480:rate=30:duration=${seconds}`],
      ...["-f", "lavfi", "-i", `sine=frequency=440:duration=${seconds}`],
      ...["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", clip],
    ]);
    const dataDir = path.join(work, "transcode-crash");
    const first = await startServer(dataDir);
    const user = await signUp(first.base);
    const id = await uploadFile(first.base, await fs.readFile(clip), "Crash during transcode", user.bearer);

    const during = await waitFor(first.base, id, (v) => v.status === "READY" || v.progress >= 10, {
      timeoutMs: 30_000,
      intervalMs: 50,
    });
    expect(during.status).toBe("PROCESSING");
    expect(during.progress).toBeLessThan(90);
    const workDirs = async () =>
      (await fs.readdir(os.tmpdir())).filter((n) => n.startsWith(`reelkit-transcode-${first.pid}-`));
    expect(await workDirs()).toHaveLength(1);
    await first.crash();

    const second = await startServer(dataDir, first.port);
    // The crashed job's half-written work directory is cleaned up at start.
    expect(await workDirs()).toEqual([]);
    const video = await waitFor(second.base, id, (v) => v.status === "READY" || v.status === "FAILED");
    expect(video.failureReason).toBeNull();
    expect(video.status).toBe("READY");
    expect(video.renditions.map((r) => r.height)).toEqual([480, 360, 180]);

    // Every rung is complete: a VOD playlist covering the whole clip, every segment served.
    const masterUrl = `${second.base}${video.playbackUrl}`;
    const master = HLS.parse(await (await fetch(masterUrl)).text()) as HLS.types.MasterPlaylist;
    expect(master.variants.map((v) => v.resolution?.height)).toEqual([480, 360, 180]);
    for (const variant of master.variants) {
      const variantUrl = new URL(variant.uri, masterUrl);
      const media = HLS.parse(await (await fetch(variantUrl)).text()) as HLS.types.MediaPlaylist;
      // Grown as an EVENT playlist while encoding, ended (VOD from then on) when done.
      expect(media.playlistType).toBe("EVENT");
      expect(media.endlist).toBe(true);
      const total = media.segments.reduce((sum, s) => sum + s.duration, 0);
      expect(total).toBeCloseTo(seconds, 0);
      for (const segment of media.segments) {
        const res = await fetch(new URL(segment.uri, variantUrl));
        expect(res.status).toBe(200);
        expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(0);
      }
    }
  }, 120_000);

  it("resumes at the ladder phase after a crash between the two phases, keeping the playable output as it was", async () => {
    // One keyframe per 14 s: no stream copy, every rung encoded; the playable phase makes one fast rung.
    const clip = path.join(work, "two-phases.mp4");
    const seconds = 14;
    ffmpeg([
      ...["-f", "lavfi", "-i", `testsrc2=size=854x480:rate=30:duration=${seconds}`],
      ...["-f", "lavfi", "-i", `sine=frequency=440:duration=${seconds}`],
      ...["-c:v", "libx264", "-preset", "ultrafast", "-g", "420", "-pix_fmt", "yuv420p", "-c:a", "aac", clip],
    ]);
    const dataDir = path.join(work, "phase-crash");
    const first = await startServer(dataDir);
    const user = await signUp(first.base);
    const id = await uploadFile(first.base, await fs.readFile(clip), "Crash between the phases", user.bearer);
    const hls = path.join(dataDir, "media", "videos", id, "hls");

    // The playable phase's record is written once its renditions are complete, before the ladder is queued.
    const deadline = Date.now() + 90_000;
    let record: { measured: Record<string, unknown> } | null = null;
    while (!record && Date.now() < deadline) {
      record = await fs
        .readFile(path.join(hls, "playable.json"), "utf8")
        .then((t) => JSON.parse(t))
        .catch(() => null);
      if (!record) await new Promise((r) => setTimeout(r, 25));
    }
    expect(record, "the playable phase finished").not.toBeNull();
    await first.crash();
    const playableNames = Object.keys((record as { measured: Record<string, unknown> }).measured);
    const snapshot = async () => {
      const out: Record<string, string> = {};
      for (const name of playableNames) {
        for (const file of (await fs.readdir(path.join(hls, name))).filter((f) => !f.endsWith(".m3u8")).sort()) {
          out[`${name}/${file}`] = sha256(await fs.readFile(path.join(hls, name, file)));
        }
      }
      return out;
    };
    const before = await snapshot();
    expect(Object.keys(before).length).toBeGreaterThan(2);

    const lines: string[] = [];
    const second = await ServerProcess.start({
      env: { REELKIT_DATA_DIR: dataDir, PORT: String(first.port) },
      onLog: (line) => lines.push(line),
    });
    servers.push(second);
    // Watchable at once: the playable output survived the crash.
    expect((await getVideo(second.base, id)).playable).toBe(true);
    const video = await waitFor(second.base, id, (v) => v.status === "READY" || v.status === "FAILED", {
      timeoutMs: 120_000,
    });
    expect(video.failureReason).toBeNull();
    expect(video.status).toBe("READY");
    expect(video.renditions.map((r) => r.height)).toEqual([480, 360, 180]);
    // The restarted server ran the ladder phase and did not encode the playable renditions again:
    // their segments are byte for byte the ones written before the crash.
    const log = lines.filter((l) => l.includes(id)).join("\n");
    expect(log).toMatch(/"phase":"ladder".*"msg":"transcode started"/);
    expect(log).not.toMatch(/"msg":"transcode playable"/);
    expect(await snapshot()).toEqual(before);
  }, 240_000);

  it("keeps a finished upload answering HEAD across a crash at the finish instant: no second video, nothing left after expiry", async () => {
    const clip = path.join(work, "finish.mp4");
    ffmpeg([
      ...["-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25:duration=2"],
      ...["-f", "lavfi", "-i", "sine=frequency=550:duration=2"],
      ...["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", clip],
    ]);
    const data = await fs.readFile(clip);
    const dataDir = path.join(work, "finish-crash");
    // Long enough for a restart under load, short enough to watch the finished uploads expire.
    const env = { REELKIT_UPLOAD_EXPIRY: "40s" };
    const start = (port = 0) =>
      ServerProcess.start({ env: { REELKIT_DATA_DIR: dataDir, PORT: String(port), ...env } }).then((s) => {
        servers.push(s);
        return s;
      });

    // The uploads belong to a user signed up on the first server (the session outlives restarts).
    let auth: Record<string, string> = {};
    const create = async (base: string, title: string) => {
      const res = await fetch(`${base}/api/uploads`, {
        method: "POST",
        headers: {
          ...auth,
          "Tus-Resumable": "1.0.0",
          "Upload-Length": String(data.length),
          "Upload-Metadata": `filename ${Buffer.from(`${title}.mp4`).toString("base64")}`,
        },
      });
      expect(res.status).toBe(201);
      return { id: res.headers.get("reelkit-video-id") as string, path: res.headers.get("location") as string };
    };
    /** The whole file in one PATCH; `onSent` runs once the last byte left, `onAnswered` with the status. */
    const patchAll = (
      base: string,
      uploadPath: string,
      hooks: { onSent?: () => void; onAnswered?: (s: number) => void },
    ) =>
      new Promise<void>((resolve) => {
        const req = http.request(`${base}${uploadPath}`, {
          method: "PATCH",
          headers: {
            ...auth,
            "Tus-Resumable": "1.0.0",
            "Upload-Offset": "0",
            "Content-Type": "application/offset+octet-stream",
            "Content-Length": String(data.length),
          },
        });
        req.on("response", (res) => {
          hooks.onAnswered?.(res.statusCode ?? 0);
          res.resume();
          res.on("end", () => resolve());
        });
        req.on("error", () => resolve()); // the server died under it
        req.on("finish", () => hooks.onSent?.());
        req.end(data);
      });
    /** What a client does after losing the last response: tus-js-client resumes from its URL. */
    const resume = (base: string, uploadPath: string) =>
      new Promise<{ methods: string[]; videoIdHeader: string | null }>((resolve, reject) => {
        const methods: string[] = [];
        let videoIdHeader: string | null = null;
        new tus.Upload(data, {
          endpoint: `${base}/api/uploads`, // with it, a HEAD 404 would make tus-js-client upload again
          uploadUrl: `${base}${uploadPath}`,
          retryDelays: [],
          headers: auth,
          onBeforeRequest: (req) => void methods.push(req.getMethod()),
          onAfterResponse: (req, res) => {
            if (req.getMethod() === "HEAD") videoIdHeader = res.getHeader("Reelkit-Video-Id") ?? null;
          },
          onError: reject,
          onSuccess: () => resolve({ methods, videoIdHeader }),
        }).start();
      });

    // 1. Killed the moment the last byte is sent: the finish hook may or may not have run.
    const first = await start();
    auth = (await signUp(first.base)).bearer;
    const a = await create(first.base, "killed-at-last-byte");
    await patchAll(first.base, a.path, { onSent: () => void first.crash() });
    await first.crash();
    const second = await start(first.port);
    const resumedA = await resume(second.base, a.path);
    expect(resumedA.methods).not.toContain("POST");

    // 2. The last PATCH succeeded, the client never saw the answer, and the server died after it.
    const b = await create(second.base, "response-lost");
    let answered = 0;
    await patchAll(second.base, b.path, { onAnswered: (s) => (answered = s) });
    expect(answered).toBe(204);
    await second.crash();
    const third = await start(first.port);
    const head = await fetch(`${third.base}${b.path}`, {
      method: "HEAD",
      headers: { ...auth, "Tus-Resumable": "1.0.0" },
    });
    expect(head.status).toBe(200);
    expect(Number(head.headers.get("upload-offset"))).toBe(data.length);
    expect(head.headers.get("reelkit-video-id")).toBe(b.id);
    const resumedB = await resume(third.base, b.path);
    expect(resumedB.methods).toEqual(["HEAD"]);
    expect(resumedB.videoIdHeader).toBe(b.id);

    // One video per upload, both READY.
    for (const id of [a.id, b.id]) {
      expect((await waitFor(third.base, id, (v) => v.status === "READY" || v.status === "FAILED")).status).toBe(
        "READY",
      );
    }
    const list = (await (await fetch(`${third.base}/api/videos?limit=100`)).json()) as { items: Video[] };
    expect(list.items.map((v) => v.id).sort()).toEqual([a.id, b.id].sort());

    // Once expired, the uploads leave nothing: no data file, no .json, no second link to a source.
    const uploadsDir = path.join(dataDir, "media", "uploads");
    const deadline = Date.now() + 150_000;
    while ((await fs.readdir(uploadsDir)).length > 0) {
      if (Date.now() > deadline) throw new Error(`uploads left: ${(await fs.readdir(uploadsDir)).join(", ")}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
    for (const id of [a.id, b.id]) {
      const source = await fs.stat(path.join(dataDir, "media", "videos", id, "source"));
      expect(source.size).toBe(data.length);
      expect(source.nlink).toBe(1);
    }
  }, 300_000);
});

const s3 = s3TestEngine();

describeWith("s3", s3.missing, "crash recovery of an upload into S3 (SIGKILL)", () => {
  it("resumes an upload into the bucket interrupted by a crash and stores the source byte-exact", async () => {
    const bucket = await createTestBucket(s3.engine as NonNullable<typeof s3.engine>);
    try {
      // Random bytes (never transcoded here: the transcoder is off), several 16 MiB PATCHes.
      const data = randomBytes(40 * 1024 * 1024 + 12_345);
      const dataDir = path.join(work, "s3-upload-crash");
      const env = { ...bucket.env, REELKIT_DATA_DIR: dataDir, REELKIT_TRANSCODER: "off" };
      const first = await ServerProcess.start({ env: { ...env, PORT: "0" } });
      servers.push(first);
      const user = await signUp(first.base);

      let videoId: string | null = null;
      const interrupted = await new Promise<{ url: string }>((resolve, reject) => {
        let killed = false;
        const upload = new tus.Upload(data, {
          endpoint: `${first.base}/api/uploads`,
          chunkSize: 16 * 1024 * 1024,
          retryDelays: [],
          headers: user.bearer,
          metadata: { filename: "noise.bin", title: "Crash during an S3 upload" },
          onAfterResponse: (req, res) => {
            if (req.getMethod() === "POST") videoId = res.getHeader("Reelkit-Video-Id") ?? null;
          },
          onProgress: (sent) => {
            if (!killed && sent > data.length * 0.5) {
              killed = true;
              void first.crash();
            }
          },
          onError: () => (upload.url ? resolve({ url: upload.url }) : reject(new Error("no upload URL"))),
          onSuccess: () => reject(new Error("the upload finished before the crash")),
        });
        upload.start();
      });
      const id = videoId as unknown as string;
      expect(id).toBeTruthy();

      const second = await ServerProcess.start({ env: { ...env, PORT: String(first.port) } });
      servers.push(second);
      const url = `${second.base}${new URL(interrupted.url).pathname}`;
      const head = await fetch(url, { method: "HEAD", headers: { "Tus-Resumable": "1.0.0", ...user.bearer } });
      expect(head.status).toBe(200);
      const offset = Number(head.headers.get("upload-offset"));
      expect(offset).toBeLessThan(data.length);
      const patchOffsets: number[] = [];
      await new Promise<void>((resolve, reject) => {
        new tus.Upload(data, {
          uploadUrl: url,
          chunkSize: 16 * 1024 * 1024,
          retryDelays: [],
          headers: user.bearer,
          onBeforeRequest: (req) => {
            if (req.getMethod() === "PATCH") patchOffsets.push(Number(req.getHeader("Upload-Offset")));
          },
          onError: reject,
          onSuccess: () => resolve(),
        }).start();
      });
      expect(patchOffsets[0]).toBe(offset);
      expect((await getVideo(second.base, id)).status).toBe("QUEUED");
      const chunks: Buffer[] = [];
      for await (const c of await bucket.storage.get(`videos/${id}/source`)) chunks.push(Buffer.from(c));
      const stored = Buffer.concat(chunks);
      expect(stored.length).toBe(data.length);
      expect(sha256(stored)).toBe(sha256(data));
    } finally {
      await bucket.drop();
    }
  }, 180_000);
});
