import { performance } from "node:perf_hooks";
import type { Logger } from "@reelkit/core";
import { exposedGc, type GcFunction } from "./young-collector.js";

export interface IdleMemoryOptions {
  /** How long the event loop must stay quiet before memory is given back, in ms. */
  quietMs?: number;
  /** How far RSS must have grown since memory was last given back, in bytes. */
  growthBytes?: number;
  /** Event-loop utilization (0–1) under which a check interval counts as quiet. */
  quietUtilization?: number;
  logger?: Logger;
  /** The process's RSS in bytes; tests pass their own. */
  rss?: () => number;
  /** Runs the collection; tests pass their own. */
  collect?: () => void;
}

/**
 * Gives the server's memory back to the system once it goes quiet after a burst of work.
 *
 * Under load V8 grows its heap for throughput, and afterwards it keeps the freed pages pooled for
 * reuse instead of returning them: an idle server would stay at the RSS of its last burst (docs/benchmarks.md). A memory-reducing ("last resort") full collection returns those pages, but it
 * holds the event loop for tens of milliseconds, so it runs only when the loop has been quiet for
 * `quietMs` and RSS has grown by `growthBytes` since the last time (start-up counts as a burst):
 * once per burst, never under load, never for a liveness probe. `releaseNow()` gives it back at
 * once, for a moment known to end a burst (the server calls it when start-up is over).
 */
export function releaseMemoryWhenIdle(options: IdleMemoryOptions = {}): { releaseNow(): void; stop(): void } {
  const quietMs = options.quietMs ?? 2_000;
  const growth = options.growthBytes ?? 16 * 1024 * 1024;
  const quietUtilization = options.quietUtilization ?? 0.05;
  const rss = options.rss ?? (() => process.memoryUsage.rss());
  let gc: GcFunction | undefined;
  const collect =
    options.collect ??
    (() => {
      gc ??= exposedGc();
      gc({ type: "major", execution: "sync", flavor: "last-resort" });
    });
  const intervalMs = Math.max(50, Math.floor(quietMs / 5));
  // Starting up is a burst of work too (migrations, compiling Prisma's query compiler): the first
  // quiet spell after it gives back what it left.
  let baseline = 0;
  let quietFor = 0;
  let last = performance.eventLoopUtilization();
  const timer = setInterval(() => {
    const now = performance.eventLoopUtilization();
    const busy = performance.eventLoopUtilization(now, last).utilization > quietUtilization;
    last = now;
    quietFor = busy ? 0 : quietFor + intervalMs;
    if (quietFor < quietMs) return;
    const before = rss();
    if (before < baseline + growth) {
      // Quiet and already small: only follow RSS down, so that the next burst is measured from here.
      baseline = Math.min(baseline, before);
      return;
    }
    release(before);
  }, intervalMs);
  timer.unref();
  function release(before: number) {
    const started = performance.now();
    collect();
    baseline = rss();
    quietFor = 0;
    options.logger?.debug(
      {
        rssBeforeMb: Math.round(before / 1048576),
        rssAfterMb: Math.round(baseline / 1048576),
        ms: Math.round(performance.now() - started),
      },
      "idle: memory given back",
    );
  }
  return { releaseNow: () => release(rss()), stop: () => clearInterval(timer) };
}
