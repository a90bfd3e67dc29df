/**
 * Time to first playable and time to READY after the last upload byte, on the embedded
 * defaults (`packages/server/dist/bin.js`: PGlite, local storage, in-process transcoder, default
 * rungs): a 60 s 1080p30 H.264 camera-like clip (passes through) and a 60 s HEVC phone-like clip
 * (10-bit hvc1 in .mov, portrait, 48 kHz AAC: encoded path).
 *
 * "Playable" is the first moment a player can fetch the master playlist, the first variant
 * playlist it names and that playlist's first segment (plus the init section), polled every
 * 25 ms over HTTP as a player would.
 * Standalone: npx tsx bench/instant.ts [seconds=60]
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { signUp } from "../packages/server/test/factories.js";
import { ServerProcess } from "../packages/server/test/server-process.js";
import { resolveBinaries } from "../packages/transcoder/src/index.js";
import { fmt, verdict } from "./lib.js";
import { tusUpload } from "./upload.js";

export interface InstantBenchResult {
  source: string;
  /** Seconds from the upload's last byte to the first playable moment. */
  playable: number;
  ready: number;
  passthrough: boolean;
  expectedPlayable: number;
}

const POLL_MS = 25;

async function fetchOk(url: string): Promise<string | null> {
  const res = await fetch(url).catch(() => null);
  if (!res?.ok) {
    await res?.body?.cancel();
    return null;
  }
  return res.text();
}

/** True once master → first variant → its init section and first segment all answer 200. */
async function playableOver(base: string, master: string): Promise<boolean> {
  const text = await fetchOk(`${base}${master}`);
  const variant = text?.split("\n").find((l) => l.endsWith(".m3u8") && !l.startsWith("#"));
  if (!text || !variant) return false;
  const dir = master.slice(0, master.lastIndexOf("/") + 1) + variant.slice(0, variant.lastIndexOf("/") + 1);
  const media = await fetchOk(`${base}${master.slice(0, master.lastIndexOf("/") + 1)}${variant}`);
  const first = media?.split("\n").find((l) => l.endsWith(".m4s"));
  if (!first) return false;
  return (await fetchOk(`${base}${dir}init.mp4`)) !== null && (await fetchOk(`${base}${dir}${first}`)) !== null;
}

/** The first packets' hashes of the first video stream, as ffprobe reads them. */
function firstPacketHashes(ffprobe: string, file: string): string {
  return execFileSync(
    ffprobe,
    ["-v", "error", "-select_streams", "v:0", "-read_intervals", "%+#5", "-show_data_hash", "MD5"].concat([
      "-show_entries",
      "packet=data_hash",
      "-of",
      "csv=p=0",
      file,
    ]),
    { encoding: "utf8" },
  );
}

/** True when the top rung begins with the source's own packets (its video was copied). */
async function topRungCopied(base: string, id: string, source: string, dir: string): Promise<boolean> {
  const { ffprobe } = resolveBinaries({ ffmpegPath: null, ffprobePath: process.env.FFPROBE_PATH ?? null });
  const master = (await fetchOk(`${base}/media/videos/${id}/hls/master.m3u8`)) ?? "";
  const top = master.split("\n").find((l) => l.endsWith(".m3u8") && !l.startsWith("#"));
  if (!top) return false;
  const rung = `${base}/media/videos/${id}/hls/${top.slice(0, top.lastIndexOf("/") + 1)}`;
  const parts = await Promise.all(
    ["init.mp4", "seg-000.m4s"].map(async (name) => Buffer.from(await (await fetch(`${rung}${name}`)).arrayBuffer())),
  );
  const joined = path.join(dir, `top-${id}.mp4`);
  await fs.writeFile(joined, Buffer.concat(parts));
  return firstPacketHashes(ffprobe, joined) === firstPacketHashes(ffprobe, source);
}

async function measureOne(
  server: ServerProcess,
  file: string,
  dir: string,
): Promise<{ playable: number; ready: number; passthrough: boolean }> {
  const { bearer } = await signUp(server.base);
  const id = await tusUpload(server.base, bearer, file, Number.POSITIVE_INFINITY);
  const t0 = performance.now();
  const master = `/media/videos/${id}/hls/master.m3u8`;
  let playable = 0;
  let ready = 0;
  while (ready === 0 && performance.now() - t0 < 900_000) {
    if (playable === 0 && (await playableOver(server.base, master))) playable = (performance.now() - t0) / 1000;
    const video = (await (await fetch(`${server.base}/api/videos/${id}`)).json()) as {
      status: string;
      failureReason: string | null;
    };
    if (video.status === "FAILED") throw new Error(`transcode failed: ${video.failureReason}`);
    if (video.status === "READY") ready = (performance.now() - t0) / 1000;
    else await new Promise((r) => setTimeout(r, POLL_MS));
  }
  const passthrough = await topRungCopied(server.base, id, file, dir);
  return { playable: playable || ready, ready, passthrough };
}

export async function runInstantBench(opts: { seconds: number }): Promise<InstantBenchResult[]> {
  const s = opts.seconds;
  const { ffmpeg } = resolveBinaries({ ffmpegPath: process.env.FFMPEG_PATH ?? null, ffprobePath: null });
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "reelkit-bench-instant-"));
  try {
    const camera = path.join(dir, "camera.mp4");
    execFileSync(ffmpeg, [
      ...["-v", "error", "-y", "-f", "lavfi", "-i", `testsrc2=size=1920x1080:rate=30:duration=${s}`],
      ...["-f", "lavfi", "-i", `sine=duration=${s}`],
      ...["-c:v", "libx264", "-preset", "veryfast", "-profile:v", "high", "-b:v", "15M", "-bf", "3", "-g", "30"],
      ...["-pix_fmt", "yuv420p", "-c:a", "aac", camera],
    ]);
    const phone = path.join(dir, "phone.mov");
    execFileSync(ffmpeg, [
      ...["-v", "error", "-y", "-f", "lavfi", "-i", `testsrc2=size=1080x1920:rate=30:duration=${s}`],
      ...["-f", "lavfi", "-i", `sine=duration=${s}:sample_rate=48000`],
      ...["-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error", "-b:v", "10M"],
      ...["-pix_fmt", "yuv420p10le", "-tag:v", "hvc1", "-c:a", "aac", "-ac", "2", phone],
    ]);
    const results: InstantBenchResult[] = [];
    for (const [source, file, expectedPlayable] of [
      [`H.264 1080p30 High, 1 s GOP, 15 Mbit/s, ${s} s (camera)`, camera, 2],
      [`HEVC Main10 1080x1920 hvc1 .mov, ${s} s (phone)`, phone, 6],
    ] as const) {
      // A fresh server for each clip: nothing else in its queue, a cold start as after a deploy.
      const server = await ServerProcess.start({
        entry: "built",
        env: { PORT: "0", REELKIT_DATA_DIR: path.join(dir, `data-${results.length}`) },
      });
      try {
        results.push({ source, expectedPlayable, ...(await measureOne(server, file, dir)) });
      } finally {
        await server.destroy();
      }
    }
    return results;
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

export function printInstantResult(results: readonly InstantBenchResult[]): void {
  console.log("\n== instant playback: after the last upload byte (embedded defaults, default rungs)");
  for (const r of results) {
    console.log(
      `${r.source}: playable ${fmt(r.playable, 2)} s (expected <= ${r.expectedPlayable}: ` +
        `${verdict(r.playable <= r.expectedPlayable)}), READY ${fmt(r.ready, 2)} s, ` +
        `${r.passthrough ? "top rung passed through (same packets as the source)" : "every rung encoded"}`,
    );
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  printInstantResult(await runInstantBench({ seconds: Number(process.argv[2] ?? 60) }));
}
