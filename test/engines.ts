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

/** Kafka bootstrap brokers for tests (`scripts/engines.sh start` prints the export). */
export const kafkaBrokers = (process.env.KAFKA_BROKERS_TEST ?? "")
  .split(",")
  .map((s) => s.trim())
  .filter(Boolean);
export const kafkaMissing = kafkaBrokers.length > 0 ? null : "KAFKA_BROKERS_TEST is not set";

/**
 * The S3-compatible server of the test suites (`scripts/engines.sh start` runs versitygw and
 * prints these): `S3_ENDPOINT_TEST`, credentials through the standard AWS variables. Each suite
 * makes its own bucket, so suites never see each other's objects.
 */
export interface S3TestEngine {
  endpoint: string;
  region: string;
  /** Environment for a Reelkit process (child or `loadConfig`) storing into `bucket`. */
  env(bucket: string): Record<string, string>;
}

export function s3TestEngine(env: NodeJS.ProcessEnv = process.env): {
  engine: S3TestEngine | null;
  missing: string | null;
} {
  const endpoint = env.S3_ENDPOINT_TEST;
  if (!endpoint) return { engine: null, missing: "S3_ENDPOINT_TEST is not set (scripts/engines.sh start)" };
  if (!env.AWS_ACCESS_KEY_ID || !env.AWS_SECRET_ACCESS_KEY) {
    return {
      engine: null,
      missing: "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY are not set (scripts/engines.sh start)",
    };
  }
  const region = env.S3_REGION_TEST ?? "us-east-1";
  const credentials = { AWS_ACCESS_KEY_ID: env.AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: env.AWS_SECRET_ACCESS_KEY };
  return {
    missing: null,
    engine: {
      endpoint,
      region,
      env: (bucket) => ({
        REELKIT_STORAGE: "s3",
        S3_BUCKET: bucket,
        S3_ENDPOINT: endpoint,
        S3_REGION: region,
        S3_FORCE_PATH_STYLE: "true",
        ...credentials,
      }),
    },
  };
}
