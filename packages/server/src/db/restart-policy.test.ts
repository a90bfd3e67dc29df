import { describe, expect, it } from "vitest";
import { DEFAULT_RESTART_POLICY, nextRestart, type RestartPolicy } from "./restart-policy.js";

const policy: RestartPolicy = {
  firstDelayMs: 100,
  maxDelayMs: 1_000,
  maxAttempts: 6,
  budgetMs: 5_000,
  stableMs: 10_000,
};

describe("nextRestart", () => {
  it("restarts at once-ish, then doubles the delay up to its maximum", () => {
    const delays = [0, 1, 2, 3, 4, 5].map((attempts) => nextRestart({ attempts, elapsedMs: 0 }, policy));
    expect(delays).toEqual([
      { action: "restart", delayMs: 100 },
      { action: "restart", delayMs: 200 },
      { action: "restart", delayMs: 400 },
      { action: "restart", delayMs: 800 },
      { action: "restart", delayMs: 1_000 },
      { action: "restart", delayMs: 1_000 },
    ]);
  });

  it("gives up after the last attempt", () => {
    expect(nextRestart({ attempts: 6, elapsedMs: 0 }, policy)).toEqual({
      action: "give-up",
      reason: "the database did not stay up after 6 restarts",
    });
  });

  it("gives up when the next restart would end past the time budget", () => {
    expect(nextRestart({ attempts: 3, elapsedMs: 4_100 }, policy)).toMatchObject({ action: "restart", delayMs: 800 });
    expect(nextRestart({ attempts: 3, elapsedMs: 4_300 }, policy)).toEqual({
      action: "give-up",
      reason: "the database has been down for 4 s (limit 5 s)",
    });
  });

  it("by default, tries for about a minute before the process exits", () => {
    let elapsedMs = 0;
    let attempts = 0;
    for (;;) {
      const d = nextRestart({ attempts, elapsedMs });
      if (d.action === "give-up") break;
      elapsedMs += d.delayMs;
      attempts++;
    }
    expect(attempts).toBe(DEFAULT_RESTART_POLICY.maxAttempts);
    expect(elapsedMs).toBeGreaterThan(20_000);
    expect(elapsedMs).toBeLessThanOrEqual(DEFAULT_RESTART_POLICY.budgetMs);
  });
});
