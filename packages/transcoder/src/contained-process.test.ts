import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it, vi } from "vitest";
import { processTable } from "../../../test/process-table.js";
import { reniceGroup } from "./contained-process.js";
import { FfmpegError, InterruptedError, runContained, runFfmpeg } from "./ffmpeg-runner.js";
import { resolveBinaries } from "./probe.js";

const bin = resolveBinaries({ ffmpegPath: null, ffprobePath: null });
/** An encode that runs until it is stopped (10 minutes of generated video). */
const ENDLESS = [
  "-v",
  "error",
  "-re",
  "-f",
  "lavfi",
  "-i",
  "testsrc=size=160x120:rate=10:duration=600",
  "-f",
  "null",
  "-",
];

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Pids of the processes in group `pgid`. */
function groupMembers(pgid: number): number[] {
  return processTable()
    .filter((p) => p.pgid === pgid)
    .map((p) => p.pid);
}

/** The pid of the process running `name` in the process group `pgid`. */
function memberOf(pgid: number, name: string): number | null {
  return processTable().find((p) => p.pgid === pgid && p.comm === name)?.pid ?? null;
}

/** The niceness of process `pid` (/proc/<pid>/stat: the 19th field, counted after the command name). */
function niceOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16]);
}

/** An encode that takes all of one core until it is stopped. */
const BUSY = [
  ...["-v", "error", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30"],
  ...["-c:v", "libx264", "-preset", "medium", "-threads", "1", "-f", "null", "-"],
];

/** CPU seconds process `pid` has used (/proc/<pid>/stat: utime and stime, in clock ticks of 1/100 s). */
function cpuSecondsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** The nice value of the session (autogroup) process `pid` belongs to: "/autogroup-N nice K". */
function sessionNiceOf(pid: number): number {
  return Number(/nice (-?\d+)/.exec(readFileSync(`/proc/${pid}/autogroup`, "utf8"))?.[1]);
}

const noAutogroup = existsSync("/proc/self/autogroup") ? null : "the kernel has no autogroup scheduling";

/** An endless contained ffmpeg, once it runs: its run, its process group and its own pid. */
async function startEndless(signal: AbortSignal, nice?: number, args = ENDLESS) {
  let group = 0;
  const run = runContained({ command: bin.ffmpeg, args, signal, nice, onSpawn: (pid) => (group = pid) });
  let ffmpeg: number | null = null;
  await vi.waitFor(() => {
    ffmpeg = group ? memberOf(group, path.basename(bin.ffmpeg).slice(0, 15)) : null;
    expect(ffmpeg).not.toBeNull();
  });
  return { run, group, ffmpeg: ffmpeg as unknown as number };
}

describe("ffmpeg in its own process group", () => {
  it("resolves on success and reports a failure of the input as FfmpegError", async () => {
    await runContained({
      command: bin.ffmpeg,
      args: ["-v", "error", "-f", "lavfi", "-i", "testsrc=duration=0.2", "-f", "null", "-"],
    });
    await expect(
      runContained({ command: bin.ffmpeg, args: ["-v", "error", "-i", "/nonexistent/input.mp4", "-f", "null", "-"] }),
    ).rejects.toBeInstanceOf(FfmpegError);
  });

  it("runs at the niceness asked for, finding nice when PATH holds only the runtime", async () => {
    const savedPath = process.env.PATH;
    process.env.PATH = path.dirname(process.execPath);
    const ctrl = new AbortController();
    try {
      const { run, ffmpeg } = await startEndless(ctrl.signal, 10);
      expect(niceOf(ffmpeg)).toBe(10);
      ctrl.abort(new Error("stop"));
      await expect(run).rejects.toThrow("stop");
    } finally {
      process.env.PATH = savedPath;
      ctrl.abort(new Error("stop"));
    }
  });

  it("lowers the priority of a running group, ffmpeg included", async () => {
    const ctrl = new AbortController();
    try {
      const { run, group, ffmpeg } = await startEndless(ctrl.signal);
      expect(niceOf(ffmpeg)).toBe(0);
      await reniceGroup(group, 5);
      expect(niceOf(ffmpeg)).toBe(5);
      ctrl.abort(new Error("stop"));
      await expect(run).rejects.toThrow("stop");
    } finally {
      ctrl.abort(new Error("stop"));
    }
  });

  it.skipIf(noAutogroup)(
    `sets its session's priority too, where the kernel shares the CPU by session first${noAutogroup ? ` (skipped: ${noAutogroup})` : ""}`,
    async () => {
      const ctrl = new AbortController();
      try {
        const { run, group } = await startEndless(ctrl.signal, 10);
        await vi.waitFor(() => expect(sessionNiceOf(group)).toBe(10));
        await reniceGroup(group, 13);
        expect(sessionNiceOf(group)).toBe(13);
        ctrl.abort(new Error("stop"));
        await expect(run).rejects.toThrow("stop");
      } finally {
        ctrl.abort(new Error("stop"));
      }
    },
  );

  it("gives a group at nice 0 far more CPU than groups at nice 15 when they compete for every core", async () => {
    const ctrl = new AbortController();
    const started: Awaited<ReturnType<typeof startEndless>>[] = [];
    try {
      // Twice as many busy single-threaded encodes at nice 15 as there are cores, and one at nice 0.
      for (let i = 0; i < 2 * os.availableParallelism() + 2; i++)
        started.push(await startEndless(ctrl.signal, 15, BUSY));
      const high = await startEndless(ctrl.signal, 0, BUSY);
      const low = [...started];
      started.push(high);
      const before = [high, ...low].map((p) => cpuSecondsOf(p.ffmpeg));
      await new Promise((r) => setTimeout(r, 2_000));
      const [highCpu = 0, ...lowCpu] = [high, ...low].map((p, i) => cpuSecondsOf(p.ffmpeg) - (before[i] ?? 0));
      const lowMean = lowCpu.reduce((a, b) => a + b, 0) / lowCpu.length;
      // Equal shares when each session competes at nice 0 (measured: 1.0×); about 6× on two cores with
      // the sessions' priorities (the one at nice 0 takes a whole core, the others share the rest).
      expect(highCpu).toBeGreaterThan(2.5 * lowMean);
    } finally {
      ctrl.abort(new Error("stop"));
      await Promise.allSettled(started.map((p) => p.run));
    }
  }, 30_000);

  it("is not in the worker's process group, so a Ctrl-C to that group does not reach it", async () => {
    const ctrl = new AbortController();
    const run = runFfmpeg({ ffmpeg: bin.ffmpeg, args: ENDLESS, signal: ctrl.signal });
    await vi.waitFor(() => {
      const table = processTable();
      const byPid = new Map(table.map((p) => [p.pid, p]));
      // Only this worker's own ffmpeg: other suites running beside it start ffmpeg too.
      const descends = (pid: number): boolean => {
        for (let p = byPid.get(pid); p && p.pid > 1; p = byPid.get(p.ppid)) if (p.ppid === process.pid) return true;
        return false;
      };
      const own = byPid.get(process.pid)?.pgid;
      const ffmpeg = table
        .filter((p) => p.comm === path.basename(bin.ffmpeg).slice(0, 15) && descends(p.pid))
        .map((p) => p.pgid);
      expect(ffmpeg.length).toBeGreaterThan(0);
      expect(ffmpeg).not.toContain(own);
    });
    ctrl.abort(new Error("stop"));
    await expect(run).rejects.toThrow("stop");
  });

  it.each(["SIGKILL", "SIGTERM"] as const)(
    "reports an ffmpeg ended by %s (OOM killer, operator) as interrupted, never as a bad input",
    async (signal) => {
      const ctrl = new AbortController();
      const { run, ffmpeg } = await startEndless(ctrl.signal);
      process.kill(ffmpeg, signal);
      const err = await run.catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InterruptedError);
      expect(err).not.toBeInstanceOf(FfmpegError);
    },
  );

  it("never outlives its worker, even when the worker is killed with SIGKILL", async () => {
    const runner = path.join(import.meta.dirname, "ffmpeg-runner.ts");
    const script = `
      import { runContained } from ${JSON.stringify(runner)};
      runContained({ command: ${JSON.stringify(bin.ffmpeg)}, args: ${JSON.stringify(ENDLESS)},
        onSpawn: (pid) => console.log("group", pid) }).catch(() => {});`;
    const worker = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const group = await new Promise<number>((resolve, reject) => {
      worker.stdout.setEncoding("utf8").on("data", (d: string) => {
        const m = /group (\d+)/.exec(d);
        if (m) resolve(Number(m[1]));
      });
      worker.once("exit", () => reject(new Error("worker exited early")));
    });
    let ffmpeg: number | null = null;
    await vi.waitFor(() => {
      ffmpeg = memberOf(group, path.basename(bin.ffmpeg).slice(0, 15));
      expect(ffmpeg).not.toBeNull();
    });
    worker.kill("SIGKILL");
    await vi.waitFor(
      () => {
        expect(alive(ffmpeg as unknown as number)).toBe(false);
        expect(groupMembers(group)).toEqual([]);
      },
      { timeout: 5000 },
    );
  });
});
