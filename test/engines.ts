import { describe, it } from "vitest";

/**
 * Engines a suite may need. A suite whose engine is absent is skipped with a stated reason;
 * `REELKIT_REQUIRE=postgres,kafka,s3,browser` (comma-separated) turns that skip into a failure.
 */
export type Engine = "postgres" | "kafka" | "s3" | "browser" | "ffmpeg" | "schemathesis" | "tmpfs";

export function requiredEngines(env: NodeJS.ProcessEnv = process.env): Set<string> {
  return new Set(
    (env.REELKIT_REQUIRE ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
  );
}

/**
 * `describeWith("postgres", url ? null : "DATABASE_URL is not set", "suite", fn)`:
 * runs the suite when `missing` is null, otherwise skips it naming the reason, or fails when
 * the engine is required.
 */
export function describeWith(engine: Engine, missing: string | null, name: string, fn: () => void): void {
  if (missing === null) {
    describe(name, fn);
    return;
  }
  if (requiredEngines().has(engine)) {
    describe(name, () => {
      it(`requires ${engine}`, () => {
        throw new Error(`${engine} is required (REELKIT_REQUIRE) but unavailable: ${missing}`);
      });
    });
    return;
  }
  describe.skip(`${name} — skipped: ${missing}`, fn);
}
