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

  it("collects once quiet after start-up, then again only once RSS has grown by growthBytes", async () => {
    let rss = 150 * MB;
    const collect = vi.fn(() => {
      rss = 100 * MB;
    });
    ({ stop } = releaseMemoryWhenIdle({ quietMs: 300, growthBytes: 16 * MB, rss: () => rss, collect }));
    // Start-up is a burst of work too.
    await vi.waitFor(() => expect(collect).toHaveBeenCalledTimes(1), { timeout: 5000 });
    rss = 110 * MB; // under the threshold
    await sleep(600);
    expect(collect).toHaveBeenCalledTimes(1);
    rss = 130 * MB; // grown by 30 MB since the collection
    await vi.waitFor(() => expect(collect).toHaveBeenCalledTimes(2), { timeout: 5000 });
    await sleep(600);
    expect(collect).toHaveBeenCalledTimes(2);
  });

  it("gives memory back at once on releaseNow, and measures the next burst from there", async () => {
    let rss = 160 * MB;
    const collect = vi.fn(() => {
      rss = 125 * MB;
    });
    const idle = releaseMemoryWhenIdle({ quietMs: 300, growthBytes: 16 * MB, rss: () => rss, collect });
    stop = idle.stop;
    idle.releaseNow();
    expect(collect).toHaveBeenCalledTimes(1);
    // Quiet, but grown by less than growthBytes since the release: nothing to give back.
    rss = 135 * MB;
    await sleep(900);
    expect(collect).toHaveBeenCalledTimes(1);
    rss = 145 * MB;
    await vi.waitFor(() => expect(collect).toHaveBeenCalledTimes(2), { timeout: 5000 });
  });

  it("does not collect while the loop is busy", async () => {
    const collect = vi.fn();
    ({ stop } = releaseMemoryWhenIdle({ quietMs: 300, growthBytes: 16 * MB, rss: () => 180 * MB, collect }));
    // Busy: 90 % of every 100 ms check interval, for three times quietMs.
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
