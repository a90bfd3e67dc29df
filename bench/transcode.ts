/**
 * Full ladder in ONE ffmpeg process (decode once, split) vs one ffmpeg process per rung, with
 * the same argument builder (identical encoder settings), in the same invocation; and, for a
 * source that passes through (the camera one), the ladder as the transcoder makes it: top rung
 * copied (with the audio) and lower rungs encoded, two processes side by side (buildHlsRuns).
 * Every encode here uses the passthrough path's x264 tuning (`lowLatency`), so the three lines
 * compare the same encoder settings.
 * Standalone: npx tsx bench/transcode.ts [seconds=30] [height=1080] [light|camera]
 * Prints wall and CPU seconds (the ffmpeg children's user+sys from /proc) and the ratios.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import {
  buildHlsArgs,
  buildHlsRuns,
  planLadder,
  planPassthrough,
  probeFile,
  probeKeyframes,
  resolveBinaries,
  runFfmpeg,
} from "../packages/transcoder/src/index.js";
import { childrenCpu, fmt, verdict } from "./lib.js";

export interface TranscodeBenchOptions {
  seconds: number;
  height: number;
  /**
   * How the generated source is encoded. `light`: x264 ultrafast (baseline-like: no CABAC, no
   * B-frames), the cheapest input to decode. `camera`: High profile with CABAC and B-frames at
   * ~15 Mbit/s, like a phone or camera file, whose decoding costs what real uploads cost.
   */
  source?: "light" | "camera";
}

export interface Timing {
  wall: number;
  cpu: number;
}

export interface TranscodeBenchResult {
  source: string;
  ladder: string[];
  ffmpeg: string;
  single: Timing;
  perRung: Timing;
  /** Top rung copied + lower rungs encoded, side by side; null when the source does not pass through. */
  passthrough: Timing | null;
}

async function measure(fn: () => Promise<void>): Promise<Timing> {
  const cpu0 = childrenCpu();
  const t0 = performance.now();
  await fn();
  return { wall: (performance.now() - t0) / 1000, cpu: childrenCpu() - cpu0 };
}

export async function runTranscodeBench(opts: TranscodeBenchOptions): Promise<TranscodeBenchResult> {
  const { seconds, height } = opts;
  const width = Math.round((height * 16) / 9 / 2) * 2;
  const bin = resolveBinaries({
    ffmpegPath: process.env.FFMPEG_PATH ?? null,
    ffprobePath: process.env.FFPROBE_PATH ?? null,
  });
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "reelkit-bench-"));
  try {
    const src = path.join(dir, "src.mp4");
    execFileSync(bin.ffmpeg, [
      ...["-v", "error", "-y", "-f", "lavfi", "-i", `testsrc2=size=${width}x${height}:rate=30:duration=${seconds}`],
      ...["-f", "lavfi", "-i", `sine=duration=${seconds}`],
      ...(opts.source === "camera"
        ? ["-c:v", "libx264", "-preset", "veryfast", "-profile:v", "high", "-b:v", "15M", "-bf", "3", "-g", "30"]
        : ["-c:v", "libx264", "-preset", "ultrafast"]),
      ...["-pix_fmt", "yuv420p", "-c:a", "aac", src],
    ]);
    const ladder = planLadder({ width, height, rotation: 0 });
    const prepare = async (out: string) => {
      for (const d of [...ladder.map((r) => r.name), "audio"]) await fs.mkdir(path.join(out, d), { recursive: true });
    };
    const one = path.join(dir, "one");
    await prepare(one);
    const single = await measure(() =>
      runFfmpeg({
        ffmpeg: bin.ffmpeg,
        args: buildHlsArgs({ input: src, outDir: one, ladder, frameRate: 30, hasAudio: true, lowLatency: true }),
      }),
    );
    const many = path.join(dir, "many");
    await prepare(many);
    const perRung = await measure(async () => {
      for (const [i, rung] of ladder.entries()) {
        // The audio rendition is encoded once, with the first rung.
        const args = buildHlsArgs({
          input: src,
          outDir: many,
          ladder: [rung],
          frameRate: 30,
          hasAudio: i === 0,
          lowLatency: true,
        });
        await runFfmpeg({ ffmpeg: bin.ffmpeg, args });
      }
    });
    const probe = await probeFile(bin.ffprobe, src);
    const plan = planPassthrough({ probe, ladder, keyframes: await probeKeyframes(bin.ffprobe, src) });
    let passthrough: Timing | null = null;
    if (plan.passthrough) {
      const copied = path.join(dir, "passthrough");
      await prepare(copied);
      const runs = buildHlsRuns({
        input: src,
        outDir: copied,
        ladder,
        frameRate: 30,
        hasAudio: true,
        passthrough: plan,
      });
      passthrough = await measure(async () => {
        await Promise.all(runs.map((args) => runFfmpeg({ ffmpeg: bin.ffmpeg, args })));
      });
    }
    return {
      passthrough,
      source: `${width}x${height} ${seconds} s 30 fps (${opts.source ?? "light"} encoding)`,
      ladder: ladder.map((r) => r.name),
      ffmpeg: bin.ffmpeg,
      single,
      perRung,
    };
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

export function printTranscodeResult(r: TranscodeBenchResult): void {
  console.log(`\n== transcode: source ${r.source}, ladder ${r.ladder.join(" ")}, ffmpeg ${r.ffmpeg}`);
  const line = (label: string, t: Timing) =>
    console.log(`${label.padEnd(22)} wall ${fmt(t.wall, 2).padStart(7)} s   cpu ${fmt(t.cpu, 2).padStart(7)} s`);
  line("one process", r.single);
  line("one process per rung", r.perRung);
  if (r.passthrough) line("passthrough + encoded", r.passthrough);
  const ratio = r.perRung.wall / r.single.wall;
  console.log(
    `per-rung / one-process: wall x${fmt(ratio, 2)} (expected >= 1.3: ${verdict(ratio >= 1.3)}), ` +
      `cpu x${fmt(r.perRung.cpu / r.single.cpu, 2)}`,
  );
  if (r.passthrough) {
    const gain = r.perRung.wall / r.passthrough.wall;
    console.log(
      `per-rung / passthrough: wall x${fmt(gain, 2)} (expected >= 2: ${verdict(gain >= 2)}), ` +
        `cpu x${fmt(r.perRung.cpu / r.passthrough.cpu, 2)}`,
    );
  } else {
    console.log("(the source does not pass through: no passthrough figure)");
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  printTranscodeResult(
    await runTranscodeBench({
      seconds: Number(process.argv[2] ?? 30),
      height: Number(process.argv[3] ?? 1080),
      source: process.argv[4] === "camera" ? "camera" : "light",
    }),
  );
}
