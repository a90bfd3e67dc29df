/**
 * S3 benchmarks against the S3-compatible server of the tests (S3_ENDPOINT_TEST and the AWS
 * credentials; `eval "$(scripts/engines.sh start s3)"`):
 *
 * - Upload: one file through tus into S3 (the BUILT server, packages/server/dist/bin.js, in a
 *   child process with REELKIT_STORAGE=s3: @tus/s3-store multipart, completed at the source key
 *   videos/<id>/source) vs a direct `@aws-sdk/lib-storage` Upload of the same file to the same
 *   S3 server, alternating, median of the rounds. Goal: a ratio ≥ 0.85.
 * - Transcoder memory: a transcoder process (packages/transcoder, built) reading its source from
 *   S3 and writing the ladder back, for two source sizes: its peak RSS should not grow with the file.
 */
import { execFileSync, spawn } from "node:child_process";
import { createReadStream } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Upload } from "@aws-sdk/lib-storage";
import { resolveBinaries } from "@reelkit/transcoder";
import * as tus from "tus-js-client";
import { signUp } from "../packages/server/test/factories.js";
import { REPO_ROOT, ServerProcess } from "../packages/server/test/server-process.js";
import { s3TestEngine } from "../test/engines.js";
import { createTestBucket } from "../test/s3.js";
import { fmt, type ProcessSample, rssMb, sampleProcess, verdict } from "./lib.js";

export interface S3BenchOptions {
  mib: number;
  rounds: number;
}

export interface S3UploadResult {
  directMbps: number;
  tusMbps: number;
  server: ProcessSample;
  rounds: number;
}

async function writeFile(file: string, mib: number): Promise<void> {
  const block = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < block.length; i++) block[i] = (Math.random() * 256) | 0;
  const handle = await fs.open(file, "w");
  for (let i = 0; i < mib; i++) await handle.write(block);
  await handle.close();
}

function tusUpload(base: string, auth: Record<string, string>, file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let videoId: string | null = null;
    new tus.Upload(createReadStream(file), {
      endpoint: `${base}/api/uploads`,
      chunkSize: Number.POSITIVE_INFINITY,
      retryDelays: [],
      headers: auth,
      metadata: { filename: "input.bin" },
      onAfterResponse: (req, res) => {
        if (req.getMethod() === "POST") videoId = res.getHeader("Reelkit-Video-Id") ?? null;
      },
      onError: reject,
      onSuccess: () => (videoId ? resolve(videoId) : reject(new Error("no Reelkit-Video-Id header"))),
    }).start();
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

export async function runS3UploadBench(opts: S3BenchOptions): Promise<S3UploadResult> {
  const { engine, missing } = s3TestEngine();
  if (!engine) throw new Error(`S3 benchmark needs an S3 server: ${missing}`);
  const size = opts.mib * 1024 * 1024;
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "reelkit-s3-bench-"));
  const bucket = await createTestBucket(engine, "reelkit-bench");
  let server: ServerProcess | null = null;
  try {
    const file = path.join(dir, "input.bin");
    await writeFile(file, opts.mib);
    server = await ServerProcess.start({
      entry: "built",
      env: {
        ...bucket.env,
        PORT: "0",
        REELKIT_DATA_DIR: path.join(dir, "data"),
        REELKIT_MAX_UPLOAD_SIZE: `${opts.mib + 1}MiB`,
      },
      startTimeoutMs: 120_000,
    });
    const srv = server;
    // Uploads need an account.
    const auth = (await signUp(srv.base)).bearer;
    const direct = async () => {
      const t0 = performance.now();
      await new Upload({
        client: bucket.client,
        params: { Bucket: bucket.name, Key: "direct/input.bin", Body: createReadStream(file) },
        partSize: 8 * 1024 * 1024,
        queueSize: 4,
      }).done();
      const wall = (performance.now() - t0) / 1000;
      await bucket.storage.delete("direct/input.bin");
      return size / 1e6 / wall;
    };
    const viaTus = async () => {
      let id = "";
      const sample = await sampleProcess(srv.pid, async () => {
        id = await tusUpload(srv.base, auth, file);
      });
      // Random bytes fail to transcode; wait for that, then delete the video and its source.
      for (let i = 0; i < 600; i++) {
        const v = (await (await fetch(`${srv.base}/api/videos/${id}`)).json()) as { status: string };
        if (v.status === "FAILED" || v.status === "READY") break;
        await new Promise((r) => setTimeout(r, 100));
      }
      await fetch(`${srv.base}/api/videos/${id}`, { method: "DELETE", headers: auth });
      return { mbps: size / 1e6 / sample.wall, sample };
    };
    // One untimed warm-up of each, then alternate.
    await direct();
    await viaTus();
    const directRuns: number[] = [];
    const tusRuns: { mbps: number; sample: ProcessSample }[] = [];
    for (let i = 0; i < opts.rounds; i++) {
      directRuns.push(await direct());
      tusRuns.push(await viaTus());
    }
    const tusMbps = median(tusRuns.map((r) => r.mbps));
    const worst = Math.max(...tusRuns.map((r) => r.sample.rssPeak));
    const mid = tusRuns.find((r) => r.mbps === tusMbps) as (typeof tusRuns)[number];
    return {
      directMbps: median(directRuns),
      tusMbps,
      server: { ...mid.sample, rssPeak: worst, rssHwm: rssMb(srv.pid, "VmHWM") },
      rounds: opts.rounds,
    };
  } finally {
    await server?.destroy();
    await bucket.drop();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

export function printS3UploadResult(opts: S3BenchOptions, r: S3UploadResult): void {
  const ratio = r.tusMbps / r.directMbps;
  console.log(`\nS3 upload, ${opts.mib} MiB, median of ${r.rounds} (S3 server: ${process.env.S3_ENDPOINT_TEST})`);
  console.log(`  direct lib-storage Upload   ${fmt(r.directMbps)} MB/s`);
  console.log(
    `  tus into S3 (server)        ${fmt(r.tusMbps)} MB/s  ratio ${fmt(ratio, 2)}  ${verdict(ratio >= 0.85)} (goal ≥ 0.85)`,
  );
  console.log(
    `  server during tus: CPU ${fmt(r.server.cpu, 2)} s, RSS ${fmt(r.server.rssBefore, 0)} → peak ${fmt(r.server.rssPeak, 0)} MB`,
  );
}

export interface S3TranscodeRun {
  seconds: number;
  sourceMb: number;
  wall: number;
  /** Peak RSS of the transcoder's Node process (sampled every 20 ms), ffmpeg excluded. */
  rssPeak: number;
}

/** The transcoder's own memory with S3 I/O, for a short and a long source of the same kind. */
export async function runS3TranscodeBench(opts: { seconds: number[]; height: number }): Promise<S3TranscodeRun[]> {
  const { engine, missing } = s3TestEngine();
  if (!engine) throw new Error(`S3 benchmark needs an S3 server: ${missing}`);
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "reelkit-s3-transcode-bench-"));
  const bucket = await createTestBucket(engine, "reelkit-bench");
  const ffmpeg = resolveBinaries({ ffmpegPath: null, ffprobePath: null }).ffmpeg;
  const runs: S3TranscodeRun[] = [];
  try {
    for (const seconds of opts.seconds) {
      const source = path.join(dir, `source-${seconds}.mp4`);
      const width = Math.round((opts.height * 16) / 9 / 2) * 2;
      execFileSync(ffmpeg, [
        ...[
          "-v",
          "error",
          "-y",
          "-f",
          "lavfi",
          "-i",
          `testsrc2=size=${width}x${opts.height}:rate=30:duration=${seconds}`,
        ],
        ...["-f", "lavfi", "-i", `sine=frequency=440:duration=${seconds}`],
        // Grain makes the picture expensive to compress: a source file of camera-like size.
        ...["-vf", "noise=alls=30:allf=t", "-c:v", "libx264", "-preset", "ultrafast", "-crf", "18"],
        ...["-pix_fmt", "yuv420p", "-c:a", "aac", source],
      ]);
      const videoId = `bench-${seconds}`;
      await bucket.storage.putFile(`videos/${videoId}/source`, source);
      const child = spawn(process.execPath, ["--import", "tsx", path.join(REPO_ROOT, "bench/s3-transcoder-child.ts")], {
        cwd: REPO_ROOT,
        env: { ...process.env, ...bucket.env, VIDEO_ID: videoId, REELKIT_DATA_DIR: path.join(dir, "data") },
        stdio: ["ignore", "pipe", "inherit"],
      });
      let out = "";
      child.stdout?.on("data", (d: Buffer) => {
        out += d.toString();
      });
      const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
      // Sampled until exit (sampleProcess reads /proc after the work, when this process is gone).
      let rssPeak = 0;
      const timer = setInterval(() => {
        try {
          const rss = rssMb(child.pid as number);
          if (Number.isFinite(rss)) rssPeak = Math.max(rssPeak, rss);
        } catch {
          // exited
        }
      }, 20);
      const t0 = performance.now();
      const code = await exited;
      clearInterval(timer);
      if (code !== 0) throw new Error(`transcode of ${seconds} s failed: ${out.trim()}`);
      const sample = { wall: (performance.now() - t0) / 1000, rssPeak };
      runs.push({
        seconds,
        sourceMb: (await fs.stat(source)).size / 1e6,
        wall: sample.wall,
        rssPeak: sample.rssPeak,
      });
    }
    return runs;
  } finally {
    await bucket.drop();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

export function printS3TranscodeResult(runs: S3TranscodeRun[]): void {
  console.log("\nTranscoder with S3 I/O (source downloaded from S3, ladder uploaded back)");
  for (const r of runs) {
    console.log(
      `  ${r.seconds} s source, ${fmt(r.sourceMb)} MB: ${fmt(r.wall)} s wall, transcoder peak RSS ${fmt(r.rssPeak, 0)} MB (ffmpeg excluded)`,
    );
  }
}
