/**
 * Full ladder in ONE ffmpeg process (decode once, split) vs one ffmpeg process per rung.
 * Usage: npx tsx bench/transcode.ts [seconds=10] [height=720]
 * Prints wall and CPU seconds (children's user+sys from /proc) and the ratios.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { buildHlsArgs, planLadder, resolveBinaries, runFfmpeg } from "../packages/transcoder/src/index.js";

const seconds = Number(process.argv[2] ?? 10);
const height = Number(process.argv[3] ?? 720);
const width = Math.round((height * 16) / 9 / 2) * 2;

/** CPU seconds of reaped child processes (Linux /proc: cutime + cstime, clock ticks at 100 Hz). */
function childCpu(): number {
  const fields = readFileSync("/proc/self/stat", "utf8").split(") ")[1]?.split(" ") ?? [];
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

async function measure(label: string, fn: () => Promise<void>): Promise<{ wall: number; cpu: number }> {
  const cpu0 = childCpu();
  const t0 = performance.now();
  await fn();
  const r = { wall: (performance.now() - t0) / 1000, cpu: childCpu() - cpu0 };
  console.log(`${label.padEnd(22)} wall ${r.wall.toFixed(2)} s   cpu ${r.cpu.toFixed(2)} s`);
  return r;
}

const bin = resolveBinaries({
  ffmpegPath: process.env.FFMPEG_PATH ?? null,
  ffprobePath: process.env.FFPROBE_PATH ?? null,
});
const dir = await fs.mkdtemp(path.join(os.tmpdir(), "reelkit-bench-"));
try {
  const src = path.join(dir, "src.mp4");
  execFileSync(bin.ffmpeg, [
    "-v",
    "error",
    "-y",
    "-f",
    "lavfi",
    "-i",
    `testsrc2=size=${width}x${height}:rate=30:duration=${seconds}`,
    "-f",
    "lavfi",
    "-i",
    `sine=duration=${seconds}`,
    "-c:v",
    "libx264",
    "-preset",
    "ultrafast",
    "-pix_fmt",
    "yuv420p",
    "-c:a",
    "aac",
    src,
  ]);
  const ladder = planLadder({ width, height, rotation: 0 });
  console.log(
    `source ${width}x${height} ${seconds}s, ladder ${ladder.map((r) => r.name).join(" ")}, ffmpeg ${bin.ffmpeg}`,
  );
  const prepare = async (out: string) => {
    for (const d of [...ladder.map((r) => r.name), "audio"]) await fs.mkdir(path.join(out, d), { recursive: true });
  };
  const one = path.join(dir, "one");
  await prepare(one);
  const single = await measure("one process", () =>
    runFfmpeg({
      ffmpeg: bin.ffmpeg,
      args: buildHlsArgs({ input: src, outDir: one, ladder, frameRate: 30, hasAudio: true }),
    }),
  );
  const many = path.join(dir, "many");
  await prepare(many);
  const perRung = await measure("one process per rung", async () => {
    for (const [i, rung] of ladder.entries()) {
      const args = buildHlsArgs({ input: src, outDir: many, ladder: [rung], frameRate: 30, hasAudio: i === 0 });
      await runFfmpeg({ ffmpeg: bin.ffmpeg, args });
    }
  });
  console.log(
    `per-rung / one-process: wall x${(perRung.wall / single.wall).toFixed(2)}, cpu x${(perRung.cpu / single.cpu).toFixed(2)}`,
  );
} finally {
  await fs.rm(dir, { recursive: true, force: true });
}
