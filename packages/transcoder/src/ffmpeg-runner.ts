import { spawn } from "node:child_process";

export interface RunOptions {
  ffmpeg: string;
  args: readonly string[];
  /** Media duration, to turn `out_time_us` into a percentage. */
  durationSec?: number;
  onProgress?: (percent: number) => void;
  signal?: AbortSignal;
}

export class FfmpegError extends Error {
  constructor(
    message: string,
    readonly stderr: string,
  ) {
    super(message);
    this.name = "FfmpegError";
  }
}

/** Parses `-progress pipe:1` blocks; returns percent for each `out_time_us` line. */
export function progressPercent(line: string, durationSec: number): number | null {
  const m = /^out_time_us=(\d+)/.exec(line.trim());
  if (!m || !(durationSec > 0)) return null;
  return Math.max(0, Math.min(100, Number(m[1]) / 1e4 / durationSec));
}

/** Spawns ffmpeg, reports progress, keeps the tail of stderr for a readable error. */
export function runFfmpeg(opts: RunOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(opts.ffmpeg, opts.args, { stdio: ["ignore", "pipe", "pipe"], signal: opts.signal });
    let stderr = "";
    let buffered = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) {
        const p = progressPercent(line, opts.durationSec ?? 0);
        if (p !== null) opts.onProgress?.(p);
      }
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr = (stderr + chunk).slice(-4000);
    });
    child.on("error", (err) => reject(err));
    child.on("close", (code, sig) => {
      if (code === 0) return resolve();
      const last = stderr.trim().split("\n").slice(-2).join(" ").trim();
      reject(new FfmpegError(`ffmpeg exited with ${code ?? sig}${last ? `: ${last}` : ""}`, stderr));
    });
  });
}
