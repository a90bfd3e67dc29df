/**
 * Generates the HLS sample the player stories play: a short lavfi clip (testsrc2 + a sine tone)
 * run through Reelkit's own transcoder (probe, ladder plan, one ffmpeg process, master playlist,
 * poster and storyboard), so Storybook shows exactly what the server would deliver. Nothing
 * binary is committed: `npm run storybook` / `build-storybook` call this first, and it does
 * nothing when the sample is already there (`--force` regenerates it).
 *
 * Output (served by Storybook's staticDirs at /sample/):
 *   .storybook/public/sample/hls/master.m3u8, hls/<rung>/…, hls/audio/…
 *   .storybook/public/sample/poster.jpg, storyboard.jpg, storyboard.vtt
 */
import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import {
  createLogger,
  type EventPayloads,
  keys,
  LocalStorage,
  loadConfig,
  MemoryJobStore,
  QueueBus,
} from "@reelkit/core";
import { createTranscoder, resolveBinaries } from "@reelkit/transcoder";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const SAMPLE_DIR = path.join(root, ".storybook/public/sample");
/** Two rungs: enough for a quality menu with a real choice, small enough to stay ~1 MB. */
const RUNGS = "360,180";
const SECONDS = 10;
const VIDEO_ID = "storybook-sample";

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(
    () => true,
    () => false,
  );
}

async function makeClip(ffmpeg: string, file: string): Promise<void> {
  await promisify(execFile)(ffmpeg, [
    "-hide_banner",
    "-nostdin",
    "-y",
    "-loglevel",
    "error",
    "-f",
    "lavfi",
    "-i",
    `testsrc2=size=640x360:rate=30:duration=${SECONDS}`,
    "-f",
    "lavfi",
    "-i",
    `sine=frequency=440:sample_rate=48000:duration=${SECONDS}`,
    "-c:v",
    "libx264",
    "-preset",
    "veryfast",
    "-pix_fmt",
    "yuv420p",
    "-c:a",
    "aac",
    "-shortest",
    file,
  ]);
}

/** Runs the bus consumer on one `video.uploaded` event and waits for its ready/failed answer. */
async function transcode(work: string, clip: string): Promise<LocalStorage> {
  const config = loadConfig({ REELKIT_DATA_DIR: work, REELKIT_RUNGS: RUNGS, LOG_LEVEL: "silent" });
  const storage = new LocalStorage(path.join(work, "media"));
  const bus = new QueueBus({ store: new MemoryJobStore(), pollMs: 50 });
  const outcome: { ready?: EventPayloads["video.transcode.ready"]; failed?: EventPayloads["video.transcode.failed"] } =
    {};
  await bus.subscribe("storybook-sample", {
    "video.transcode.ready": async (e) => {
      outcome.ready = e;
    },
    "video.transcode.failed": async (e) => {
      outcome.failed = e;
    },
  });
  const transcoder = createTranscoder({ config, storage, bus, logger: createLogger({ logLevel: "silent" }) });
  await transcoder.start();
  await storage.putFile(keys.source(VIDEO_ID), clip);
  await bus.publish("video.uploaded", { videoId: VIDEO_ID, attempt: 1, sourceKey: keys.source(VIDEO_ID) });
  // Publishing only queues the job: wait for its outcome.
  while (!outcome.ready && !outcome.failed) await new Promise((r) => setTimeout(r, 100));
  await transcoder.stop();
  await bus.close();
  if (outcome.failed) throw new Error(`transcode failed: ${outcome.failed.reason}`);
  if (!outcome.ready) throw new Error("transcode finished without a ready event");
  return storage;
}

export async function generateSample(options: { force?: boolean } = {}): Promise<string> {
  const master = path.join(SAMPLE_DIR, "hls/master.m3u8");
  if (!options.force && (await exists(master))) return SAMPLE_DIR;
  const started = Date.now();
  const work = await fs.mkdtemp(path.join(os.tmpdir(), "reelkit-storybook-sample-"));
  try {
    const clip = path.join(work, "clip.mp4");
    await makeClip(resolveBinaries({ ffmpegPath: null, ffprobePath: null }).ffmpeg, clip);
    const storage = await transcode(work, clip);
    const videoDir = path.dirname(storage.localPath(keys.source(VIDEO_ID)));
    await fs.rm(path.join(videoDir, "source"), { force: true });
    // Build beside the target and rename in, so a half-written sample is never served.
    const staging = `${SAMPLE_DIR}.tmp-${process.pid}`;
    await fs.rm(staging, { recursive: true, force: true });
    await fs.mkdir(path.dirname(SAMPLE_DIR), { recursive: true });
    await fs.cp(videoDir, staging, { recursive: true });
    await fs.rm(SAMPLE_DIR, { recursive: true, force: true });
    await fs.rename(staging, SAMPLE_DIR);
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
  console.log(`storybook sample: ${path.relative(root, SAMPLE_DIR)} (${Date.now() - started} ms)`);
  return SAMPLE_DIR;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  generateSample({ force: process.argv.includes("--force") }).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
