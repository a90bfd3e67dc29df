import { endedBySignal, spawnContained, stopGroup } from "./contained-process.js";

export interface RunOptions {
  ffmpeg: string;
  args: readonly string[];
  /** Media duration, to turn `out_time_us` into a percentage. */
  durationSec?: number;
  onProgress?: (percent: number) => void;
  /** Aborting stops ffmpeg's process group; the run then rejects with the signal's reason. */
  signal?: AbortSignal;
  /** CPU niceness (0..19): a ladder encodes at a lower priority than playable phases. */
  nice?: number;
  /** Told the id of ffmpeg's process group once it runs (to change its priority later). */
  onSpawn?: (pgid: number) => void;
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

/**
 * ffmpeg (or ffprobe) was ended by a signal it did not get from its own worker: the OOM killer,
 * an operator. Nothing is known about the input, so the job is retried, not failed.
 */
export class InterruptedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InterruptedError";
  }
}

/** Parses `-progress pipe:1` blocks; returns percent for each `out_time_us` line. */
export function progressPercent(line: string, durationSec: number): number | null {
  const m = /^out_time_us=(\d+)/.exec(line.trim());
  if (!m || !(durationSec > 0)) return null;
  return Math.max(0, Math.min(100, Number(m[1]) / 1e4 / durationSec));
}

export interface ContainedResult {
  stdout: string;
  stderr: string;
}

/**
 * Runs a command in its own process group under the watchdog (see contained-process.ts):
 * resolves with its output on exit 0; rejects with the abort reason when `signal` stopped it,
 * InterruptedError when a signal ended it, FfmpegError otherwise. `onStdoutLine` receives
 * stdout line by line instead of collecting it.
 */
export function runContained(opts: {
  command: string;
  args: readonly string[];
  signal?: AbortSignal;
  onStdoutLine?: (line: string) => void;
  /** Bytes of stderr kept (the tail). */
  stderrTail?: number;
  /** Told the id of the process group (the watchdog's pid) once it exists. */
  onSpawn?: (pgid: number) => void;
  nice?: number;
}): Promise<ContainedResult> {
  return new Promise((resolve, reject) => {
    const { signal } = opts;
    if (signal?.aborted) return reject(signal.reason);
    const child = spawnContained(opts.command, opts.args, opts.nice);
    if (child.pid) opts.onSpawn?.(child.pid);
    const name = opts.command.split("/").pop() ?? opts.command;
    let stdout = "";
    let stderr = "";
    let buffered = "";
    const onAbort = () => stopGroup(child);
    signal?.addEventListener("abort", onAbort, { once: true });
    child.stdin.on("error", () => {}); // the watchdog's pipe: never written, may be closed early
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      if (!opts.onStdoutLine) {
        stdout += chunk;
        return;
      }
      buffered += chunk;
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) opts.onStdoutLine(line);
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr = (stderr + chunk).slice(-(opts.stderrTail ?? 4000));
    });
    child.on("error", (err) => {
      signal?.removeEventListener("abort", onAbort);
      reject(err);
    });
    child.on("close", (code, sig) => {
      signal?.removeEventListener("abort", onAbort);
      if (signal?.aborted) return reject(signal.reason);
      if (code === 0) return resolve({ stdout, stderr });
      if (endedBySignal(code, sig)) {
        return reject(new InterruptedError(`${name} was stopped by a signal (${sig ?? `exit ${code}`})`));
      }
      const last = stderr.trim().split("\n").slice(-2).join(" ").trim();
      reject(new FfmpegError(`${name} exited with ${code}${last ? `: ${last}` : ""}`, stderr));
    });
  });
}

/** Runs ffmpeg in its own process group and reports progress (see runContained for outcomes). */
export async function runFfmpeg(opts: RunOptions): Promise<void> {
  await runContained({
    command: opts.ffmpeg,
    args: opts.args,
    signal: opts.signal,
    nice: opts.nice,
    onSpawn: opts.onSpawn,
    onStdoutLine: (line) => {
      const p = progressPercent(line, opts.durationSec ?? 0);
      if (p !== null) opts.onProgress?.(p);
    },
  });
}
