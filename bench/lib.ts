/** Small measuring helpers shared by the benchmarks (Linux /proc). */
import { readFileSync } from "node:fs";

const TICKS_PER_SECOND = 100;

function statFields(pid: number | "self"): string[] {
  // The command name may contain spaces; the fields after ") " are fixed.
  return readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
}

/** user + system CPU seconds of a live process. */
export function processCpu(pid: number): number {
  const f = statFields(pid);
  return (Number(f[11]) + Number(f[12])) / TICKS_PER_SECOND;
}

/** user + system CPU seconds of this process's reaped children (e.g. finished ffmpeg runs). */
export function childrenCpu(): number {
  const f = statFields("self");
  return (Number(f[13]) + Number(f[14])) / TICKS_PER_SECOND;
}

/** Resident set size in MB (VmRSS: now; VmHWM: the kernel's peak since the process started). */
export function rssMb(pid: number, field: "VmRSS" | "VmHWM" = "VmRSS"): number {
  const m = readFileSync(`/proc/${pid}/status`, "utf8").match(new RegExp(`${field}:\\s+(\\d+) kB`));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

export interface ProcessSample {
  /** RSS (MB) when the work started. */
  rssBefore: number;
  /** Highest RSS (MB) sampled every 20 ms while the work ran. */
  rssPeak: number;
  /** The kernel's lifetime peak (VmHWM, MB) after the work: includes start-up. */
  rssHwm: number;
  /** CPU seconds the process used during the work. */
  cpu: number;
  /** Wall seconds of the work. */
  wall: number;
}

/** Runs `work` while sampling process `pid`'s RSS and CPU. */
export async function sampleProcess(pid: number, work: () => Promise<void>): Promise<ProcessSample> {
  const rssBefore = rssMb(pid);
  const cpu0 = processCpu(pid);
  let rssPeak = rssBefore;
  const timer = setInterval(() => {
    rssPeak = Math.max(rssPeak, rssMb(pid));
  }, 20);
  const t0 = performance.now();
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  const wall = (performance.now() - t0) / 1000;
  return {
    rssBefore,
    rssPeak: Math.max(rssPeak, rssMb(pid)),
    rssHwm: rssMb(pid, "VmHWM"),
    cpu: processCpu(pid) - cpu0,
    wall,
  };
}

export function fmt(n: number, digits = 1): string {
  return Number.isFinite(n) ? n.toFixed(digits) : "n/a";
}

/** "ok" / "BELOW" against an expectation, for the printed summary (benchmarks never fail). */
export function verdict(ok: boolean): string {
  return ok ? "meets" : "misses";
}
