import { afterEach, describe, expect, it, vi } from "vitest";
import { notReadyMessage, readinessProbe } from "./readiness.js";

afterEach(() => {
  vi.useRealTimers();
});

describe("readinessProbe", () => {
  it("runs every check and reports each failure by name", async () => {
    const probe = readinessProbe({
      storage: async () => undefined,
      bus: async () => {
        throw new Error("no brokers");
      },
    });
    const results = await probe();
    expect(results).toEqual([
      { name: "storage", error: null },
      { name: "bus", error: "no brokers" },
    ]);
    expect(notReadyMessage(results)).toBe("Not ready (bus: no brokers)");
    expect(notReadyMessage([{ name: "storage", error: null }])).toBeNull();
  });

  it("fails a check that does not answer in time", async () => {
    const probe = readinessProbe({ database: () => new Promise(() => undefined) }, { timeoutMs: 20 });
    expect(await probe()).toEqual([{ name: "database", error: "did not answer within 20 ms" }]);
  });

  it("reuses a result within the cache window, and concurrent probes share one run", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const check = vi.fn(async () => undefined);
    const probe = readinessProbe({ storage: check }, { cacheMs: 1000 });
    await Promise.all([probe(), probe()]);
    vi.advanceTimersByTime(999);
    await probe();
    expect(check).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(1);
    await probe();
    expect(check).toHaveBeenCalledTimes(2);
  });
});
