/** Small measuring helpers shared by the benchmarks (Linux /proc). */
import { readFileSync } from "node:fs";
import pg from "pg";

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

/**
 * Proportional set size (MB) of every descendant of `pid`, not `pid` itself (e.g. the embedded
 * database a server runs): memory shared between them (PostgreSQL's shared buffers) counted once.
 */
export function descendantsPssMb(pid: number): number {
  const children = (p: number) => {
    try {
      return readFileSync(`/proc/${p}/task/${p}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
    } catch {
      return [];
    }
  };
  let total = 0;
  const visit = (p: number) => {
    try {
      const m = readFileSync(`/proc/${p}/smaps_rollup`, "utf8").match(/^Pss:\s+(\d+) kB/m);
      total += m ? Number(m[1]) / 1024 : 0;
    } catch {
      // the process ended meanwhile
    }
    for (const c of children(p)) visit(c);
  };
  for (const c of children(pid)) visit(c);
  return total;
}

/** A new, empty database on a PostgreSQL server; `drop()` removes it. */
export async function freshDatabase(serverUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `reelkit_bench_${Date.now()}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: serverUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await c.end();
    },
  };
}
