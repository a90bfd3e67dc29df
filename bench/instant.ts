/**
 * Time to first playable and time to READY after the last upload byte, on the embedded
 * defaults (`packages/server/dist/bin.js`: embedded PostgreSQL, local storage, in-process transcoder, default
 * rungs): a 60 s 1080p30 H.264 camera-like clip (passes through) and a 60 s HEVC phone-like clip
 * (10-bit hvc1 in .mov, portrait, 48 kHz AAC: encoded path).
 *
 * "Playable" is the first moment a player can fetch the master playlist, the first variant
 * playlist it names and that playlist's first segment (plus the init section), polled every
 * 25 ms over HTTP as a player would.
 * Then it watches: headless Chromium opens the video's embed page (autoplay, muted) the moment
 * the catalog calls it playable and plays it to its end while it processes; printed are the wall
 * time from the first frame to the end, the time the picture stood still, and how often the
 * playhead went backwards on its own (goal: none, and watching takes at most the clip's length
 * + 2 s when transcoding runs at least at real time).
 * Standalone: npx tsx bench/instant.ts [seconds=60]
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Browser } from "playwright-core";
import { signUp } from "../packages/server/test/factories.js";
import { REPO_ROOT, ServerProcess } from "../packages/server/test/server-process.js";
import { resolveBinaries } from "../packages/transcoder/src/index.js";
import { chromiumMissing, launchChromium } from "../test/browser/chromium.js";
import { describeWatch, recordWatch, type WatchReport, watchReport } from "../test/browser/watch-through.js";
import { fmt, verdict } from "./lib.js";
import { tusUpload } from "./upload.js";

export interface InstantBenchResult {
  source: string;
  /** Seconds from the upload's last byte to the first playable moment. */
  playable: number;
  ready: number;
  passthrough: boolean;
  expectedPlayable: number;
  /** Where the time went: [step, ms after the server's "upload finished"] in order. */
  steps: [string, number][];
  /** Watching it in Chromium while it processed; null without Chromium. */
  watch: WatchReport | null;
  /** Seconds from the upload's last byte to the first frame in Chromium. */
  firstFrame: number | null;
  /** Clip seconds per second from the upload's last byte to READY (transcoding speed, end to end). */
  speed: number;
  seconds: number;
}

/** A server log line (pino JSON) of one video's way to playable. */
interface StepLine {
  time: number;
  msg: string;
  videoId?: string;
  key?: string;
  probedMs?: number | null;
  ffmpegStartedMs?: number | null;
  firstSegmentMs?: Record<string, number | null>;
}

/** Collects the log lines the server writes on a video's way to playable (see breakdown()). */
class StepLog {
  readonly lines: StepLine[] = [];
  add(line: string): void {
    if (!line.startsWith("{")) return;
    try {
      const l = JSON.parse(line) as StepLine;
      if (typeof l.time === "number" && (l.videoId || l.key)) this.lines.push(l);
    } catch {
      // not a log line
    }
  }

  /**
   * Milliseconds after the server's "upload finished" for each step the log shows: queued
   * (source linked, outbox row committed), the event on the bus, the job picked up, ffprobe
   * done, ffmpeg started, each rendition's first segment stored and listed, master + playable
   * event, the catalog turned playable; plus what the client saw (its upload response, the
   * first moment it could fetch everything).
   */
  breakdown(id: string, client: { response: number; playable: number }): [string, number][] {
    const of = this.lines.filter((l) => l.videoId === id || l.key === id);
    const at = (msg: string) => of.find((l) => l.msg === msg)?.time ?? null;
    const origin = at("upload finished");
    if (origin === null) return [];
    const started = at("transcode started");
    const playable = of.find((l) => l.msg === "transcode playable");
    const steps: [string, number | null][] = [
      ["queued", at("video queued")],
      ["bus", at("outbox event published")],
      ["client: upload response", client.response],
      ["job start", started],
    ];
    // The transcoder's own milestones are relative to the job start (its clock is the same).
    const jobStart = playable && started !== null ? playable.time - ((playable as { ms?: number }).ms ?? 0) : null;
    const rel = (ms: number | null | undefined) => (jobStart !== null && ms != null ? jobStart + ms : null);
    steps.push(["probed", rel(playable?.probedMs)], ["ffmpeg", rel(playable?.ffmpegStartedMs)]);
    const firsts = Object.entries(playable?.firstSegmentMs ?? {}).sort((a, b) => (a[1] ?? 0) - (b[1] ?? 0));
    for (const [name, ms] of firsts) steps.push([`1st ${name}`, rel(ms)]);
    steps.push(
      ["master + event", playable?.time ?? null],
      ["catalog", at("video playable")],
      ["client: playable", client.playable],
    );
    return steps.filter((s): s is [string, number] => s[1] !== null).map(([n, t]) => [n, Math.round(t - origin)]);
  }
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

async function measureOne(opts: {
  server: ServerProcess;
  steps: StepLog;
  file: string;
  dir: string;
  browser: Browser | null;
  seconds: number;
}): Promise<Omit<InstantBenchResult, "source" | "expectedPlayable" | "seconds">> {
  const { server, steps, file, dir, browser } = opts;
  const { bearer } = await signUp(server.base);
  const id = await tusUpload(server.base, bearer, file, Number.POSITIVE_INFINITY);
  const t0 = performance.now();
  const responseAt = Date.now();
  const master = `/media/videos/${id}/hls/master.m3u8`;
  let playable = 0;
  let ready = 0;
  let catalogPlayable: () => void = () => undefined;
  const whenPlayable = new Promise<void>((resolve) => {
    catalogPlayable = resolve;
  });
  // The viewer opens the embed page the moment the catalog hands out a playback URL.
  const watching = browser
    ? (async () => {
        await whenPlayable;
        const page = await browser.newPage({ viewport: { width: 640, height: 360 } });
        page.on("crash", () => console.log("instant playback: the page crashed"));
        let closing = false;
        page.on("close", () => closing || console.log("instant playback: the page closed before the watch ended"));
        page.on("pageerror", (e) => console.log(`instant playback: page error ${e.message}`));
        try {
          await recordWatch(page);
          await page.goto(`${server.base}/embed/${id}?autoplay=1&muted=1`);
          return await watchReport(page, { timeoutMs: 120_000 + opts.seconds * 6_000 });
        } finally {
          closing = true;
          await page.close();
        }
      })()
    : Promise.resolve(null);
  let catalogSaidPlayable = false;
  while (ready === 0 && performance.now() - t0 < 900_000) {
    if (playable === 0 && (await playableOver(server.base, master))) playable = (performance.now() - t0) / 1000;
    const video = (await (await fetch(`${server.base}/api/videos/${id}`)).json()) as {
      status: string;
      playable: boolean;
      failureReason: string | null;
    };
    if (video.status === "FAILED") throw new Error(`transcode failed: ${video.failureReason}`);
    if (video.playable && !catalogSaidPlayable) {
      catalogSaidPlayable = true;
      catalogPlayable();
    }
    if (video.status === "READY") ready = (performance.now() - t0) / 1000;
    else await new Promise((r) => setTimeout(r, POLL_MS));
  }
  catalogPlayable();
  const watch = await watching;
  const passthrough = await topRungCopied(server.base, id, file, dir);
  const client = { response: responseAt, playable: responseAt + (playable || ready) * 1000 };
  return {
    playable: playable || ready,
    ready,
    passthrough,
    steps: steps.breakdown(id, client),
    watch,
    firstFrame: watch?.firstFrameAt ? (watch.firstFrameAt - responseAt) / 1000 : null,
    speed: ready > 0 ? opts.seconds / ready : 0,
  };
}

export async function runInstantBench(opts: { seconds: number }): Promise<InstantBenchResult[]> {
  const s = opts.seconds;
  const { ffmpeg } = resolveBinaries({ ffmpegPath: process.env.FFMPEG_PATH ?? null, ffprobePath: null });
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "reelkit-bench-instant-"));
  // Generating the clips takes minutes on two cores: they are kept (by length) for the next run.
  const clips = path.join(os.tmpdir(), "reelkit-bench-instant-clips");
  await fs.mkdir(clips, { recursive: true });
  const clip = async (name: string, make: (file: string) => void) => {
    const file = path.join(clips, name);
    if (await fs.stat(file).catch(() => null)) return file;
    const partial = path.join(clips, `partial-${process.pid}-${name}`);
    make(partial);
    await fs.rename(partial, file);
    return file;
  };
  try {
    const camera = await clip(`camera-${s}s.mp4`, (file) =>
      execFileSync(ffmpeg, [
        ...["-v", "error", "-y", "-f", "lavfi", "-i", `testsrc2=size=1920x1080:rate=30:duration=${s}`],
        ...["-f", "lavfi", "-i", `sine=duration=${s}`],
        ...["-c:v", "libx264", "-preset", "veryfast", "-profile:v", "high", "-b:v", "15M", "-bf", "3", "-g", "30"],
        ...["-pix_fmt", "yuv420p", "-c:a", "aac", "-f", "mp4", file],
      ]),
    );
    const phone = await clip(`phone-${s}s.mov`, (file) =>
      execFileSync(ffmpeg, [
        ...["-v", "error", "-y", "-f", "lavfi", "-i", `testsrc2=size=1080x1920:rate=30:duration=${s}`],
        ...["-f", "lavfi", "-i", `sine=duration=${s}:sample_rate=48000`],
        ...["-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error", "-b:v", "10M"],
        ...["-pix_fmt", "yuv420p10le", "-tag:v", "hvc1", "-c:a", "aac", "-ac", "2", "-f", "mov", file],
      ]),
    );
    const results: InstantBenchResult[] = [];
    if (chromiumMissing) console.log(`instant playback: not watching in a browser (${chromiumMissing})`);
    const browser = chromiumMissing ? null : await launchChromium(["--autoplay-policy=no-user-gesture-required"]);
    try {
      for (const [source, file, expectedPlayable] of [
        [`H.264 1080p30 High, 1 s GOP, 15 Mbit/s, ${s} s (camera)`, camera, 2],
        [`HEVC Main10 1080x1920 hvc1 .mov, ${s} s (phone)`, phone, 6],
      ] as const) {
        // A fresh server for each clip: nothing else in its queue, a cold start as after a deploy.
        const steps = new StepLog();
        const server = await ServerProcess.start({
          entry: "built",
          env: {
            PORT: "0",
            REELKIT_DATA_DIR: path.join(dir, `data-${results.length}`),
            // The embed page the viewer watches on.
            REELKIT_DEMO_DIR: path.join(REPO_ROOT, "apps/demo/dist"),
          },
          onLog: (line) => steps.add(line),
        });
        try {
          results.push({
            source,
            expectedPlayable,
            seconds: s,
            ...(await measureOne({ server, steps, file, dir, browser, seconds: s })),
          });
        } finally {
          await server.destroy();
        }
      }
    } finally {
      await browser?.close();
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
    if (r.steps.length > 0) {
      console.log(`  ms after the server's "upload finished": ${r.steps.map(([n, ms]) => `${n} ${ms}`).join(", ")}`);
    }
    const w = r.watch;
    if (w) {
      // The goal holds where the transcoder keeps up with playback; on a slower machine the
      // figures are printed, the verdict says why it does not apply.
      const goal = r.seconds + 2;
      const keepsUp = r.speed >= 1;
      const fast = w.endedAt !== null && w.wallSeconds <= goal;
      console.log(
        `  watched in Chromium while processing: first frame ${r.firstFrame === null ? "-" : fmt(r.firstFrame, 2)} s ` +
          `after the upload; ${describeWatch(w)}`,
      );
      // No first frame: what the element did instead, for whoever reads the figures.
      if (!w.firstFrameAt) console.log(`  media events: ${w.log.slice(0, 30).join("; ") || "none"}`);
      console.log(
        `  watch wall time ${fmt(w.wallSeconds, 2)} s (goal <= clip + 2 = ${goal} s when transcoding >= 1x real time; ` +
          `transcoding ran at ${fmt(r.speed, 2)}x: ${keepsUp ? verdict(fast) : `goal not applicable, ${fast ? "met anyway" : "not met"}`}), ` +
          `stall ${fmt(w.stallSeconds, 2)} s, backward jumps ${w.backwardJumps.length} (goal 0: ` +
          `${verdict(w.backwardJumps.length === 0 && w.seeks.length === 0)}), reached the end: ${w.endedAt !== null ? "yes" : "no"}`,
      );
    }
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  printInstantResult(await runInstantBench({ seconds: Number(process.argv[2] ?? 60) }));
}
