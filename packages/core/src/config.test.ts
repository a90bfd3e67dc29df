import path from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, parseDuration, parseSize } from "./config.js";

describe("loadConfig", () => {
  it("gives the embedded defaults for an empty environment", () => {
    const config = loadConfig({}, "/srv/app");
    expect(config).toMatchObject({
      port: 3000,
      host: "0.0.0.0",
      dataDir: path.resolve("/srv/app/data"),
      databaseUrl: null,
      maxUploadSize: 10 * 1024 ** 3,
      uploadExpirySeconds: 86_400,
      corsOrigins: ["*"],
      rungs: [1080, 720, 480, 360, 180],
      transcodeConcurrency: "auto",
      transcodeShares: {},
      logLevel: "info",
      transcoder: "inline",
      kafkaBrokers: [],
      kafkaPartitions: 6,
      jobMaxAttempts: 5,
      jobBackoffMs: 2000,
      jobLeaseMs: 30_000,
      staleJobSeconds: 900,
      storage: { kind: "local" },
    });
  });

  it("reads REELKIT_METRICS_TOKEN (unset: null) and rejects a short or spaced one", () => {
    expect(loadConfig({}).metricsToken).toBeNull();
    expect(loadConfig({ REELKIT_METRICS_TOKEN: "s3cr3t-metrics-token-0123" }).metricsToken).toBe(
      "s3cr3t-metrics-token-0123",
    );
    expect(() => loadConfig({ REELKIT_METRICS_TOKEN: "short" })).toThrow(
      new ConfigError("REELKIT_METRICS_TOKEN", "must be at least 16 characters"),
    );
    expect(() => loadConfig({ REELKIT_METRICS_TOKEN: "with a space in the token" })).toThrow(
      "REELKIT_METRICS_TOKEN: must be printable ASCII without spaces",
    );
  });

  it("reads the delivery settings and rejects bad ones naming the variable", () => {
    const config = loadConfig({
      REELKIT_TRANSCODER: "off",
      KAFKA_BROKERS: "kafka-1:9092, 10.0.0.2:9093",
      REELKIT_KAFKA_PARTITIONS: "12",
      REELKIT_KAFKA_REPLICATION_FACTOR: "3",
      REELKIT_KAFKA_TOPIC_PREFIX: "staging.",
      REELKIT_JOB_MAX_ATTEMPTS: "3",
      REELKIT_JOB_BACKOFF: "10s",
      REELKIT_JOB_LEASE: "1m",
      REELKIT_STALE_JOB_AFTER: "1h",
    });
    expect(config).toMatchObject({
      transcoder: "off",
      kafkaBrokers: ["kafka-1:9092", "10.0.0.2:9093"],
      kafkaPartitions: 12,
      kafkaReplicationFactor: 3,
      kafkaTopicPrefix: "staging.",
      jobMaxAttempts: 3,
      jobBackoffMs: 10_000,
      jobLeaseMs: 60_000,
      staleJobSeconds: 3600,
    });
    expect(() => loadConfig({ REELKIT_TRANSCODER: "sometimes" })).toThrow(/^REELKIT_TRANSCODER: /);
    expect(() => loadConfig({ KAFKA_BROKERS: "kafka-1" })).toThrow(/^KAFKA_BROKERS: /);
    expect(() => loadConfig({ REELKIT_KAFKA_TOPIC_PREFIX: "a b" })).toThrow(/^REELKIT_KAFKA_TOPIC_PREFIX: /);
    expect(() => loadConfig({ REELKIT_JOB_MAX_ATTEMPTS: "0" })).toThrow(/^REELKIT_JOB_MAX_ATTEMPTS: /);
  });

  it("accepts the names the project's scripts read (engine ports, caches) beside the server's own", () => {
    const env = {
      REELKIT_PG_PORT: "54339",
      REELKIT_KAFKA_PORT: "59192",
      REELKIT_S3_PORT: "57170",
      REELKIT_CACHE_DIR: "/tmp/c",
    };
    expect(() => loadConfig(env)).not.toThrow();
    expect(() => loadConfig({ ...env, REELKIT_PG_PROT: "1" })).toThrow(/^REELKIT_PG_PROT: unknown variable/);
  });

  it("reads the S3 storage settings", () => {
    const config = loadConfig({
      REELKIT_STORAGE: "s3",
      S3_BUCKET: "reelkit-media",
      S3_ENDPOINT: "http://127.0.0.1:9000",
      AWS_REGION: "eu-west-3",
      S3_PUBLIC_BASE_URL: "https://cdn.example.com/media/",
    });
    expect(config.storage).toEqual({
      kind: "s3",
      bucket: "reelkit-media",
      region: "eu-west-3",
      endpoint: "http://127.0.0.1:9000",
      forcePathStyle: true,
      publicBaseUrl: "https://cdn.example.com/media",
    });
    const aws = loadConfig({ REELKIT_STORAGE: "s3", S3_BUCKET: "media.example", S3_REGION: "us-west-2" });
    expect(aws.storage).toMatchObject({
      region: "us-west-2",
      endpoint: null,
      forcePathStyle: false,
      publicBaseUrl: null,
    });
    const forced = loadConfig({ REELKIT_STORAGE: "s3", S3_BUCKET: "media", S3_FORCE_PATH_STYLE: "true" });
    expect(forced.storage).toMatchObject({ forcePathStyle: true });
  });

  it("reads every variable", () => {
    const config = loadConfig(
      {
        PORT: "8080",
        REELKIT_DATA_DIR: "state",
        DATABASE_URL: "postgres://u:p@localhost:5432/reelkit",
        REELKIT_MAX_UPLOAD_SIZE: "500MB",
        REELKIT_UPLOAD_EXPIRY: "30m",
        REELKIT_PUBLIC_URL: "https://cdn.example.com/",
        REELKIT_CORS_ORIGINS: "https://a.example, https://b.example",
        REELKIT_RUNGS: "360,720",
        REELKIT_TRANSCODE_CONCURRENCY: "2",
        REELKIT_LOG_LEVEL: "warn",
        FFMPEG_PATH: "/opt/ffmpeg",
      },
      "/srv/app",
    );
    expect(config.port).toBe(8080);
    expect(config.dataDir).toBe(path.resolve("/srv/app/state"));
    expect(config.databaseUrl).toBe("postgres://u:p@localhost:5432/reelkit");
    expect(config.maxUploadSize).toBe(500_000_000);
    expect(config.uploadExpirySeconds).toBe(1800);
    expect(config.publicUrl).toBe("https://cdn.example.com");
    expect(config.corsOrigins).toEqual(["https://a.example", "https://b.example"]);
    expect(config.rungs).toEqual([720, 360]);
    expect(config.transcodeConcurrency).toBe(2);
    expect(config.logLevel).toBe("warn");
    expect(config.ffmpegPath).toBe("/opt/ffmpeg");
  });

  it("reads REELKIT_TRUST_PROXY as Fastify's trustProxy: off by default, true, hops or addresses", () => {
    expect(loadConfig({}).trustProxy).toBe(false);
    const trust = (v: string) => loadConfig({ REELKIT_TRUST_PROXY: v }).trustProxy;
    expect(trust("true")).toBe(true);
    expect(trust("FALSE")).toBe(false);
    expect(trust("0")).toBe(false);
    expect(trust("2")).toBe(2);
    expect(trust("loopback, 10.0.0.0/8,::1, fd00::/8, 192.168.0.0/255.255.0.0")).toEqual([
      "loopback",
      "10.0.0.0/8",
      "::1",
      "fd00::/8",
      "192.168.0.0/255.255.0.0",
    ]);
    for (const bad of ["yes", "*", "10.0.0.0/33", "proxy.example", "10.0.0.1/8/8", "101"]) {
      expect(() => trust(bad), bad).toThrow(/REELKIT_TRUST_PROXY/);
    }
  });

  it("reads the sign-in providers and the JWT lifetime", () => {
    expect(loadConfig({})).toMatchObject({ google: null, oidc: null, jwtTtlSeconds: 900 });
    const config = loadConfig({
      GOOGLE_CLIENT_ID: "g-id",
      GOOGLE_CLIENT_SECRET: "g-secret",
      OIDC_ISSUER: "https://id.example.com/realms/main/",
      OIDC_CLIENT_ID: "reelkit",
      OIDC_CLIENT_SECRET: "s3cret",
      OIDC_NAME: "Example ID",
      REELKIT_JWT_TTL: "5m",
    });
    expect(config.google).toEqual({ clientId: "g-id", clientSecret: "g-secret" });
    expect(config.oidc).toEqual({
      issuer: "https://id.example.com/realms/main",
      clientId: "reelkit",
      clientSecret: "s3cret",
      name: "Example ID",
    });
    expect(config.jwtTtlSeconds).toBe(300);
    expect(
      loadConfig({ OIDC_ISSUER: "https://id.example", OIDC_CLIENT_ID: "a", OIDC_CLIENT_SECRET: "b" }).oidc?.name,
    ).toBe("OpenID Connect");
  });

  it.each([
    [{ PORT: "http" }, "PORT"],
    [{ PORT: "70000" }, "PORT"],
    [{ DATABASE_URL: "mysql://x" }, "DATABASE_URL"],
    [{ REELKIT_MAX_UPLOAD_SIZE: "lots" }, "REELKIT_MAX_UPLOAD_SIZE"],
    [{ REELKIT_UPLOAD_EXPIRY: "-1h" }, "REELKIT_UPLOAD_EXPIRY"],
    [{ REELKIT_RUNGS: "720,720" }, "REELKIT_RUNGS"],
    [{ REELKIT_LOG_LEVEL: "loud" }, "REELKIT_LOG_LEVEL"],
    [{ REELKIT_PUBLIC_URL: "ftp://x" }, "REELKIT_PUBLIC_URL"],
    [{ REELKIT_STORAGE: "nfs" }, "REELKIT_STORAGE"],
    [{ REELKIT_STORAGE: "s3" }, "S3_BUCKET"],
    [{ REELKIT_STORAGE: "s3", S3_BUCKET: "Bad_Bucket" }, "S3_BUCKET"],
    [{ REELKIT_STORAGE: "s3", S3_BUCKET: "media", S3_ENDPOINT: "s3.local" }, "S3_ENDPOINT"],
    [{ REELKIT_STORAGE: "s3", S3_BUCKET: "media", S3_FORCE_PATH_STYLE: "maybe" }, "S3_FORCE_PATH_STYLE"],
    [{ REELKIT_STORAGE: "s3", S3_BUCKET: "media", S3_PUBLIC_BASE_URL: "cdn" }, "S3_PUBLIC_BASE_URL"],
    [{ REELKIT_TYPO: "1" }, "REELKIT_TYPO"],
    [{ GOOGLE_CLIENT_ID: "g-id" }, "GOOGLE_CLIENT_SECRET"],
    [{ OIDC_ISSUER: "https://id.example" }, "OIDC_CLIENT_ID"],
    [{ OIDC_CLIENT_ID: "a", OIDC_CLIENT_SECRET: "b" }, "OIDC_ISSUER"],
    [{ OIDC_ISSUER: "id.example", OIDC_CLIENT_ID: "a", OIDC_CLIENT_SECRET: "b" }, "OIDC_ISSUER"],
    [{ REELKIT_JWT_TTL: "0" }, "REELKIT_JWT_TTL"],
  ])("rejects %o naming the variable", (env, variable) => {
    let error: unknown;
    try {
      loadConfig(env);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe(variable);
    expect((error as Error).message.startsWith(`${variable}:`)).toBe(true);
  });

  it("parses sizes and durations", () => {
    expect(parseSize("X", "10GiB")).toBe(10 * 1024 ** 3);
    expect(parseSize("X", "1.5k")).toBe(1500);
    expect(parseSize("X", "1048576")).toBe(1_048_576);
    expect(parseDuration("X", "7d")).toBe(604_800);
    expect(parseDuration("X", "90")).toBe(90);
  });
});
