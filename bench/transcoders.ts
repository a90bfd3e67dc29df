/**
 * Jobs per minute with one vs two `reelkit-transcoder` processes: a reelkit-server
 * (transcoder off) on PostgreSQL (DATABASE_URL_TEST) and Kafka (KAFKA_BROKERS_TEST), local
 * storage shared by the processes; the same N short clips are uploaded at once, and the clock
 * runs from the first upload finished to the last video READY. Each run has its own database,
 * topics and media directory. On one machine both transcoders share its cores, so the ratio
 * says how much a second worker adds there (on separate machines it would add a whole one).
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { resolveBinaries } from "@reelkit/transcoder";
import { createTestDatabase } from "../packages/server/src/db/test-databases.js";
import { settled, signUp, waitForVideo } from "../packages/server/test/factories.js";
import { ServerProcess } from "../packages/server/test/server-process.js";
import { uploadFile } from "../packages/server/test/tus-upload.js";
import { fmt } from "./lib.js";

export interface TranscodersBenchOptions {
  /** Jobs per run. */
  jobs: number;
  /** Length of each clip (640x360, 25 fps, with audio). */
  seconds: number;
  brokers: string[];
}

export interface TranscodersRun {
  transcoders: number;
  jobs: number;
  wallSeconds: number;
  jobsPerMinute: number;
  /** Jobs each transcoder finished ("transcode ready" in its log). */
  perTranscoder: number[];
}

async function runOnce(
  opts: TranscodersBenchOptions,
  transcoders: number,
  clip: Buffer,
  work: string,
): Promise<TranscodersRun> {
  const tdb = await createTestDatabase("postgres");
  const procs: ServerProcess[] = [];
  try {
    const env = {
      PORT: "0",
      DATABASE_URL: tdb.url as string,
      KAFKA_BROKERS: opts.brokers.join(","),
      REELKIT_KAFKA_TOPIC_PREFIX: `bench${Date.now()}.`,
      REELKIT_KAFKA_PARTITIONS: "6",
      REELKIT_DATA_DIR: path.join(work, `run-${transcoders}`),
      REELKIT_TRANSCODER: "off",
      REELKIT_RUNGS: "360,180",
    };
    const server = await ServerProcess.start({ entry: "source", env, startTimeoutMs: 120_000 });
    procs.push(server);
    const workers: ServerProcess[] = [];
    for (let i = 0; i < transcoders; i++) {
      workers.push(await ServerProcess.start({ entry: "transcoder", env, startTimeoutMs: 120_000 }));
      procs.push(workers[i] as ServerProcess);
    }
    // Both workers in the group before the first job (a join rebalances the partitions).
    await new Promise((r) => setTimeout(r, 5_000));
    const { bearer } = await signUp(server.base);
    const ids = await Promise.all(
      Array.from({ length: opts.jobs }, (_, i) => uploadFile(server.base, clip, `bench-${transcoders}-${i}`, bearer)),
    );
    const t0 = performance.now();
    for (const id of ids) {
      const video = await waitForVideo(server.base, id, settled, 30 * 60_000);
      if (video.status !== "READY") throw new Error(`video ${id} ended ${video.status}: ${video.failureReason}`);
    }
    const wallSeconds = (performance.now() - t0) / 1000;
    return {
      transcoders,
      jobs: opts.jobs,
      wallSeconds,
      jobsPerMinute: (opts.jobs / wallSeconds) * 60,
      perTranscoder: workers.map((w) => (w.recentLog().match(/transcode ready/g) ?? []).length),
    };
  } finally {
    await Promise.all(procs.map((p) => p.destroy()));
    await tdb.dispose();
  }
}

export async function runTranscodersBench(opts: TranscodersBenchOptions): Promise<TranscodersRun[]> {
  const work = await fs.mkdtemp(path.join(os.tmpdir(), "reelkit-bench-transcoders-"));
  try {
    const file = path.join(work, "clip.mp4");
    const { ffmpeg } = resolveBinaries({ ffmpegPath: null, ffprobePath: null });
    execFileSync(ffmpeg, [
      ...["-v", "error", "-y", "-f", "lavfi", "-i", `testsrc2=size=640x360:rate=25:duration=${opts.seconds}`],
      ...["-f", "lavfi", "-i", `sine=frequency=440:duration=${opts.seconds}`],
      ...["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-c:a", "aac", file],
    ]);
    const clip = await fs.readFile(file);
    const runs: TranscodersRun[] = [];
    for (const n of [1, 2]) runs.push(await runOnce(opts, n, clip, work));
    return runs;
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}

export function printTranscodersResult(opts: TranscodersBenchOptions, runs: TranscodersRun[]): void {
  console.log(
    `\nTranscoder scale-out: ${opts.jobs} jobs of a ${opts.seconds} s 640x360 clip (rungs 360p, 180p), Kafka + PostgreSQL`,
  );
  for (const r of runs) {
    console.log(
      `  ${r.transcoders} transcoder${r.transcoders > 1 ? "s" : " "}: ${fmt(r.wallSeconds)} s, ` +
        `${fmt(r.jobsPerMinute)} jobs/min (jobs per process: ${r.perTranscoder.join(", ")})`,
    );
  }
  const [one, two] = runs;
  if (one && two) {
    console.log(
      `  two vs one: ${fmt(two.jobsPerMinute / one.jobsPerMinute, 2)}x on ${os.cpus().length} CPUs ` +
        "(both share this machine's cores; figures are noisy when the machine is busy)",
    );
  }
}
