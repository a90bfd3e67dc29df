import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "@reelkit/core";
import { afterEach, describe, expect, it, vi } from "vitest";
import { releaseMemoryWhenIdle } from "./idle-memory.js";

const MB = 1024 * 1024;

/** Holds the event loop for `ms` (what a burst of requests does to it). */
function spin(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {}
}

describe("releaseMemoryWhenIdle", () => {
  let stop: (() => void) | undefined;
  afterEach(() => stop?.());

  it("collects once when the loop goes quiet after RSS grew, and not again until it grows anew", async () => {
    let rss = 100 * MB;
    const collect = vi.fn(() => {
      rss = 105 * MB;
    });
    ({ stop } = releaseMemoryWhenIdle({ quietMs: 300, growthBytes: 16 * MB, rss: () => rss, collect }));
    rss = 180 * MB;
    await vi.waitFor(() => expect(collect).toHaveBeenCalledTimes(1), { timeout: 5000 });
    await sleep(600);
    expect(collect).toHaveBeenCalledTimes(1);
    rss = 130 * MB; // grown by 25 MB since the collection
    await vi.waitFor(() => expect(collect).toHaveBeenCalledTimes(2), { timeout: 5000 });
  });

  it("does not collect while the loop is busy, nor when RSS has not grown", async () => {
    let rss = 100 * MB;
    const collect = vi.fn();
    ({ stop } = releaseMemoryWhenIdle({ quietMs: 300, growthBytes: 16 * MB, rss: () => rss, collect }));
    rss = 110 * MB; // under the growth threshold
    await sleep(700);
    expect(collect).not.toHaveBeenCalled();
    rss = 180 * MB;
    // Busy: 90 % of every 100 ms check interval.
    for (let i = 0; i < 10; i++) {
      spin(90);
      await sleep(10);
    }
    expect(collect).not.toHaveBeenCalled();
    await vi.waitFor(() => expect(collect).toHaveBeenCalledTimes(1), { timeout: 5000 });
  });

  it("runs V8's memory-reducing collection without --expose-gc", async () => {
    expect((globalThis as { gc?: unknown }).gc).toBeUndefined();
    let rss = 100 * MB;
    const debug = vi.fn();
    const logger = { debug } as unknown as Logger;
    ({ stop } = releaseMemoryWhenIdle({ quietMs: 300, rss: () => rss, logger }));
    rss = 200 * MB;
    await vi.waitFor(() => expect(debug).toHaveBeenCalled(), { timeout: 5000 });
    expect(debug).toHaveBeenCalledWith(expect.objectContaining({ rssBeforeMb: 200 }), "idle: memory given back");
    // The function V8 exposed is its gc(): it collects (a WeakRef's target goes).
    const gc = (await import("node:vm")).runInNewContext("gc") as (o: object) => void;
    let target: object | undefined = {};
    const ref = new WeakRef(target);
    target = undefined;
    await sleep(0);
    gc({ type: "major", execution: "sync", flavor: "last-resort" });
    expect(ref.deref()).toBeUndefined();
  });
});
