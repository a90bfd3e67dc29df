import { isIP } from "node:net";
import path from "node:path";

/**
 * The one typed configuration of a Reelkit process, read from the environment at runtime.
 * Every variable is listed in the README's configuration table; unknown `REELKIT_*` variables
 * and invalid values fail fast with a message naming the variable.
 */
/** Where objects live: a directory under `dataDir`, or an S3 bucket. */
export type StorageConfig = { kind: "local" } | S3StorageConfig;

export interface S3StorageConfig {
  kind: "s3";
  bucket: string;
  region: string;
  /** An S3-compatible server's URL; AWS when null. */
  endpoint: string | null;
  /** Path-style URLs (`<endpoint>/<bucket>/<key>`), which most S3-compatible servers need. */
  forcePathStyle: boolean;
  /** Playback and image URLs point here (a CDN or the bucket's public URL); through `/media` when null. */
  publicBaseUrl: string | null;
}

export interface Config {
  port: number;
  host: string;
  /** Root of all local state: `db/` (the embedded PostgreSQL), `media/`, `reelkit.lock`. */
  dataDir: string;
  /** Object storage: `<dataDir>/media` by default, S3 with `REELKIT_STORAGE=s3`. */
  storage: StorageConfig;
  /** PostgreSQL connection string; the embedded PostgreSQL in `<dataDir>/db` when absent. */
  databaseUrl: string | null;
  /** Largest accepted upload in bytes. */
  maxUploadSize: number;
  /** Unfinished uploads older than this many seconds are removed. */
  uploadExpirySeconds: number;
  /** Public origin used in URLs the API hands out (playback, media); derived from the request when null. */
  publicUrl: string | null;
  /** Allowed CORS origins; `*` allows any. */
  corsOrigins: string[];
  /** CSP `frame-ancestors` sources: who may frame Reelkit's pages (`*` any, `'self'`, origins). */
  frameAncestors: string[];
  ffmpegPath: string | null;
  ffprobePath: string | null;
  /** Ladder rung heights, largest first. */
  rungs: number[];
  /** Transcode jobs run at once in this process. */
  transcodeConcurrency: number;
  logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
  /** Directory of the built demo site served at `/`; none when null. */
  demoDir: string | null;
  /** PostgreSQL text-search configuration (language) of catalog search, e.g. `simple`, `english`. */
  searchLanguage: string;
  /** `inline`: reelkit-server also runs the transcoder; `off`: separate reelkit-transcoder processes do. */
  transcoder: "inline" | "off";
  /** Kafka bootstrap brokers (`host:port`); the job queue in the database when empty. */
  kafkaBrokers: string[];
  /** Partitions of each topic Reelkit creates (existing topics are left as they are). */
  kafkaPartitions: number;
  /** Replication factor of the topics Reelkit creates. */
  kafkaReplicationFactor: number;
  /** Prepended to Reelkit's topic and consumer group names (several deployments on one cluster). */
  kafkaTopicPrefix: string;
  /** Deliveries of a message before it is parked (dead-lettered) and its video FAILED. */
  jobMaxAttempts: number;
  /** Delay before the first redelivery after a failure, in ms; doubles each time, up to 60 s. */
  jobBackoffMs: number;
  /** A job whose worker stopped renewing its lease for this long (ms) goes to another worker (job queue). */
  jobLeaseMs: number;
  /**
   * With Kafka, a QUEUED/PROCESSING video without any event for this long (seconds) is queued
   * again by the sweep (the job queue knows exactly which jobs are owned and needs no timeout).
   */
  staleJobSeconds: number;
  /**
   * Bearer token `/metrics` requires (of every client, loopback included) when set; when null,
   * `/metrics` answers loopback clients only.
   */
  metricsToken: string | null;
  /** Signs sessions, tokens and media URLs; generated into `<dataDir>/secret` when null (never in production). */
  secret: string | null;
  /** The server's own public origin (sign-in callbacks); taken from each request's Host when null. */
  baseUrl: string | null;
  /**
   * Which proxies' `X-Forwarded-For/-Host/-Proto` to believe, as Fastify's `trustProxy` takes it:
   * `false` (none: the socket address, the Host header), `true` (any), a hop count, or
   * addresses, CIDR ranges and proxy-addr's names (`loopback`, `linklocal`, `uniquelocal`).
   */
  trustProxy: TrustProxy;
  /** These e-mail addresses become admins when they sign up (lower-cased). */
  adminEmails: string[];
  /** Lifetime of the signed media URLs of PRIVATE videos, in seconds. */
  mediaUrlTtlSeconds: number;
  /** Lifetime of a sign-in session, in seconds. */
  sessionTtlSeconds: number;
  /** Lifetime of the signed JWTs handed out at `/api/auth/token`, in seconds. */
  jwtTtlSeconds: number;
  /** Sign-in and sign-up attempts allowed per client address and window. */
  authRateLimit: RateLimit;
  /** Upload creations allowed per caller and window. */
  uploadRateLimit: RateLimit;
  /** Unfinished uploads one user (or upload token owner) may have at once. */
  maxUnfinishedUploads: number;
  /** "Sign in with Google" when both are set. */
  google: { clientId: string; clientSecret: string } | null;
  /** Any OpenID Connect provider (discovery at `<issuer>/.well-known/openid-configuration`). */
  oidc: { issuer: string; clientId: string; clientSecret: string; name: string } | null;
}

export type TrustProxy = boolean | number | string[];

export interface RateLimit {
  max: number;
  windowSeconds: number;
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = "ConfigError";
  }
}

const KNOWN = new Set([
  "REELKIT_DATA_DIR",
  "REELKIT_MAX_UPLOAD_SIZE",
  "REELKIT_UPLOAD_EXPIRY",
  "REELKIT_PUBLIC_URL",
  "REELKIT_CORS_ORIGINS",
  "REELKIT_FRAME_ANCESTORS",
  "REELKIT_RUNGS",
  "REELKIT_TRANSCODE_CONCURRENCY",
  "REELKIT_DEMO_DIR",
  "REELKIT_REQUIRE",
  "REELKIT_LOG_LEVEL",
  "REELKIT_SECRET",
  "REELKIT_BASE_URL",
  "REELKIT_TRUST_PROXY",
  "REELKIT_ADMIN_EMAILS",
  "REELKIT_SESSION_TTL",
  "REELKIT_JWT_TTL",
  "REELKIT_MEDIA_URL_TTL",
  "REELKIT_AUTH_RATE_LIMIT",
  "REELKIT_UPLOAD_RATE_LIMIT",
  "REELKIT_MAX_UNFINISHED_UPLOADS",
  "REELKIT_SEARCH_LANGUAGE",
  "REELKIT_TRANSCODER",
  "REELKIT_KAFKA_PARTITIONS",
  "REELKIT_KAFKA_REPLICATION_FACTOR",
  "REELKIT_KAFKA_TOPIC_PREFIX",
  "REELKIT_JOB_MAX_ATTEMPTS",
  "REELKIT_JOB_BACKOFF",
  "REELKIT_JOB_LEASE",
  "REELKIT_STALE_JOB_AFTER",
  "REELKIT_METRICS_TOKEN",
  "REELKIT_STORAGE",
  // read by the `reelkit` CLI of @reelkit/sdk, not by the server
  "REELKIT_URL",
  "REELKIT_TOKEN",
  // read by the demo site's Vite dev server, not by the server
  "REELKIT_DEV_SERVER",
  // read by scripts/engines.sh and scripts/node.sh (test engines, Node builds), not by the server
  "REELKIT_PG_PORT",
  "REELKIT_KAFKA_PORT",
  "REELKIT_KAFKA_DIR",
  "REELKIT_S3_PORT",
  "REELKIT_CACHE_DIR",
]);

/** A bearer token: long enough not to be guessed, and only characters a header carries as-is. */
function parseMetricsToken(raw: string | undefined): string | null {
  if (raw === undefined) return null;
  if (raw.length < 16) throw new ConfigError("REELKIT_METRICS_TOKEN", "must be at least 16 characters");
  if (!/^[\x21-\x7e]+$/.test(raw)) {
    throw new ConfigError("REELKIT_METRICS_TOKEN", "must be printable ASCII without spaces");
  }
  return raw;
}

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

const SIZE_UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  kib: 1024,
  m: 1e6,
  mb: 1e6,
  mib: 1024 ** 2,
  g: 1e9,
  gb: 1e9,
  gib: 1024 ** 3,
  t: 1e12,
  tb: 1e12,
  tib: 1024 ** 4,
};

/** `10GiB`, `500MB`, `1048576` → bytes. */
export function parseSize(variable: string, raw: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(raw);
  const unit = m?.[2]?.toLowerCase() ?? "";
  const factor = SIZE_UNITS[unit];
  if (!m || factor === undefined) {
    throw new ConfigError(variable, `expected a size such as 10GiB, 500MB or 1048576, got ${JSON.stringify(raw)}`);
  }
  const bytes = Math.floor(Number(m[1]) * factor);
  if (bytes <= 0) throw new ConfigError(variable, "must be greater than zero");
  return bytes;
}

/** `90s`, `30m`, `24h`, `7d`, `3600` (seconds) → seconds. */
export function parseDuration(variable: string, raw: string): number {
  const m = /^\s*(\d+)\s*(s|m|h|d)?\s*$/.exec(raw);
  if (!m) throw new ConfigError(variable, `expected a duration such as 24h, 30m or 3600, got ${JSON.stringify(raw)}`);
  const n = Number(m[1]);
  const factor = { s: 1, m: 60, h: 3600, d: 86400 }[(m[2] ?? "s") as "s" | "m" | "h" | "d"];
  if (n <= 0) throw new ConfigError(variable, "must be greater than zero");
  return n * factor;
}

/** `10/1m`, `100/1h`: at most N per duration. */
export function parseRateLimit(variable: string, raw: string): RateLimit {
  const m = /^\s*(\d+)\s*\/\s*(.+)$/.exec(raw);
  if (!m) throw new ConfigError(variable, `expected N/duration such as 10/1m, got ${JSON.stringify(raw)}`);
  const max = Number(m[1]);
  if (max <= 0) throw new ConfigError(variable, "must allow at least one request");
  return { max, windowSeconds: parseDuration(variable, m[2] as string) };
}

function parseInteger(variable: string, raw: string, min: number, max: number): number {
  if (!/^\s*\d+\s*$/.test(raw)) throw new ConfigError(variable, `expected an integer, got ${JSON.stringify(raw)}`);
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigError(variable, `must be between ${min} and ${max}, got ${n}`);
  return n;
}

/** `*`, `'self'`, `'none'` or http(s) origins, comma-separated; anything else would be CSP syntax injected. */
function parseFrameAncestors(raw: string): string[] {
  const sources = raw
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  if (sources.length === 0) throw new ConfigError("REELKIT_FRAME_ANCESTORS", "expected at least one source");
  return sources.map((s) => {
    if (s === "*" || s === "'self'" || s === "'none'") return s;
    return new URL(parseUrl("REELKIT_FRAME_ANCESTORS", s, ["http:", "https:"])).origin;
  });
}

function parseUrl(variable: string, raw: string, protocols: string[]): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(variable, `expected a URL, got ${JSON.stringify(raw)}`);
  }
  if (!protocols.includes(url.protocol)) {
    throw new ConfigError(variable, `expected a ${protocols.join(" or ")} URL, got ${url.protocol}`);
  }
  return raw;
}

function parseBoolean(variable: string, raw: string): boolean {
  const v = raw.toLowerCase();
  if (["1", "true", "yes", "on"].includes(v)) return true;
  if (["0", "false", "no", "off"].includes(v)) return false;
  throw new ConfigError(variable, `expected true or false, got ${JSON.stringify(raw)}`);
}

const PROXY_NAMES = new Set(["loopback", "linklocal", "uniquelocal"]);

/** `false` (the default), `true`, a hop count, or comma-separated addresses, CIDRs and names. */
export function parseTrustProxy(raw: string | undefined): TrustProxy {
  const variable = "REELKIT_TRUST_PROXY";
  if (raw === undefined) return false;
  const v = raw.toLowerCase();
  if (v === "true") return true;
  if (v === "false") return false;
  if (/^\d+$/.test(v)) {
    const hops = parseInteger(variable, v, 0, 100);
    return hops === 0 ? false : hops;
  }
  const entries = v
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  for (const entry of entries) {
    const [address = "", prefix, ...rest] = entry.split("/");
    const family = isIP(address);
    const validPrefix =
      prefix === undefined ||
      (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 6 ? 128 : 32)) ||
      (family === 4 && isIP(prefix) === 4);
    if (PROXY_NAMES.has(entry)) continue;
    if (family === 0 || !validPrefix || rest.length > 0) {
      throw new ConfigError(
        variable,
        `expected true, false, a hop count or comma-separated addresses/CIDRs (loopback, 10.0.0.0/8…), got ${JSON.stringify(entry)}`,
      );
    }
  }
  if (entries.length === 0) throw new ConfigError(variable, "expected at least one address");
  return entries;
}

function loadStorageConfig(get: (name: string) => string | undefined): StorageConfig {
  const kind = (get("REELKIT_STORAGE") ?? "local").toLowerCase();
  if (kind === "local") return { kind: "local" };
  if (kind !== "s3") throw new ConfigError("REELKIT_STORAGE", `expected local or s3, got ${JSON.stringify(kind)}`);
  const bucket = get("S3_BUCKET");
  if (!bucket) throw new ConfigError("S3_BUCKET", "required when REELKIT_STORAGE=s3");
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new ConfigError("S3_BUCKET", `not a valid bucket name: ${JSON.stringify(bucket)}`);
  }
  const endpointRaw = get("S3_ENDPOINT");
  const endpoint = endpointRaw ? parseUrl("S3_ENDPOINT", endpointRaw, ["http:", "https:"]) : null;
  const pathStyleRaw = get("S3_FORCE_PATH_STYLE");
  const publicBase = get("S3_PUBLIC_BASE_URL");
  return {
    kind: "s3",
    bucket,
    region: get("S3_REGION") ?? get("AWS_REGION") ?? "us-east-1",
    endpoint,
    // S3-compatible servers mostly serve path-style URLs; AWS prefers virtual-hosted ones.
    forcePathStyle: pathStyleRaw ? parseBoolean("S3_FORCE_PATH_STYLE", pathStyleRaw) : endpoint !== null,
    publicBaseUrl: publicBase
      ? parseUrl("S3_PUBLIC_BASE_URL", publicBase, ["http:", "https:"]).replace(/\/+$/, "")
      : null,
  };
}

export function loadConfig(env: Record<string, string | undefined> = process.env, cwd = process.cwd()): Config {
  for (const name of Object.keys(env)) {
    if (name.startsWith("REELKIT_") && !KNOWN.has(name)) {
      throw new ConfigError(name, "unknown variable (see the README's configuration table)");
    }
  }
  const get = (name: string): string | undefined => {
    const v = env[name];
    return v === undefined || v.trim() === "" ? undefined : v.trim();
  };

  const dataDir = path.resolve(cwd, get("REELKIT_DATA_DIR") ?? "data");
  const port = get("PORT") === undefined ? 3000 : parseInteger("PORT", get("PORT") as string, 0, 65535);

  const rungsRaw = get("REELKIT_RUNGS") ?? "1080,720,480,360,180";
  const rungs = rungsRaw.split(",").map((s) => parseInteger("REELKIT_RUNGS", s, 72, 4320));
  if (rungs.length === 0) throw new ConfigError("REELKIT_RUNGS", "needs at least one rung");
  rungs.sort((a, b) => b - a);
  if (new Set(rungs).size !== rungs.length) throw new ConfigError("REELKIT_RUNGS", "rungs must be distinct");

  const levelRaw = (get("REELKIT_LOG_LEVEL") ?? get("LOG_LEVEL") ?? "info").toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(levelRaw)) {
    throw new ConfigError(
      "REELKIT_LOG_LEVEL",
      `expected one of ${LOG_LEVELS.join(", ")}, got ${JSON.stringify(levelRaw)}`,
    );
  }

  const searchLanguage = (get("REELKIT_SEARCH_LANGUAGE") ?? "simple").toLowerCase();
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(searchLanguage)) {
    throw new ConfigError(
      "REELKIT_SEARCH_LANGUAGE",
      `expected a text search configuration name such as english, got ${JSON.stringify(searchLanguage)}`,
    );
  }
  const transcoder = (get("REELKIT_TRANSCODER") ?? "inline").toLowerCase();
  if (transcoder !== "inline" && transcoder !== "off") {
    throw new ConfigError("REELKIT_TRANSCODER", `expected inline or off, got ${JSON.stringify(transcoder)}`);
  }
  const kafkaBrokers = (get("KAFKA_BROKERS") ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  for (const broker of kafkaBrokers) {
    if (!/^[A-Za-z0-9.-]+:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(broker)) {
      throw new ConfigError("KAFKA_BROKERS", `expected host:port[,host:port…], got ${JSON.stringify(broker)}`);
    }
  }

  const publicUrlRaw = get("REELKIT_PUBLIC_URL");
  const databaseUrl = get("DATABASE_URL");

  const secret = get("REELKIT_SECRET") ?? null;
  if (secret !== null && secret.length < 32) throw new ConfigError("REELKIT_SECRET", "must be at least 32 characters");
  if (secret === null && env.NODE_ENV === "production") {
    throw new ConfigError(
      "REELKIT_SECRET",
      "is required when NODE_ENV=production (e.g. the output of `openssl rand -base64 48`)",
    );
  }
  const baseUrlRaw = get("REELKIT_BASE_URL");
  const pair = <K extends string>(a: K, b: K): [string, string] | null => {
    const [x, y] = [get(a), get(b)];
    if (!x && !y) return null;
    if (!x || !y) throw new ConfigError(x ? b : a, `must be set together with ${x ? a : b}`);
    return [x, y];
  };
  const google = pair("GOOGLE_CLIENT_ID", "GOOGLE_CLIENT_SECRET");
  const oidcClient = pair("OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET");
  const oidcIssuer = get("OIDC_ISSUER");
  if (Boolean(oidcClient) !== Boolean(oidcIssuer)) {
    throw new ConfigError(
      oidcIssuer ? "OIDC_CLIENT_ID" : "OIDC_ISSUER",
      "OIDC_ISSUER, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET go together",
    );
  }

  return {
    port,
    host: get("HOST") ?? "0.0.0.0",
    dataDir,
    storage: loadStorageConfig(get),
    databaseUrl: databaseUrl ? parseUrl("DATABASE_URL", databaseUrl, ["postgres:", "postgresql:"]) : null,
    maxUploadSize: parseSize("REELKIT_MAX_UPLOAD_SIZE", get("REELKIT_MAX_UPLOAD_SIZE") ?? "10GiB"),
    uploadExpirySeconds: parseDuration("REELKIT_UPLOAD_EXPIRY", get("REELKIT_UPLOAD_EXPIRY") ?? "24h"),
    publicUrl: publicUrlRaw
      ? parseUrl("REELKIT_PUBLIC_URL", publicUrlRaw, ["http:", "https:"]).replace(/\/+$/, "")
      : null,
    corsOrigins: (get("REELKIT_CORS_ORIGINS") ?? "*")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
    frameAncestors: parseFrameAncestors(get("REELKIT_FRAME_ANCESTORS") ?? "*"),
    ffmpegPath: get("FFMPEG_PATH") ?? null,
    ffprobePath: get("FFPROBE_PATH") ?? null,
    rungs,
    transcodeConcurrency: parseInteger(
      "REELKIT_TRANSCODE_CONCURRENCY",
      get("REELKIT_TRANSCODE_CONCURRENCY") ?? "1",
      1,
      64,
    ),
    logLevel: levelRaw as Config["logLevel"],
    demoDir: get("REELKIT_DEMO_DIR") ? path.resolve(cwd, get("REELKIT_DEMO_DIR") as string) : null,
    secret,
    baseUrl: baseUrlRaw ? new URL(parseUrl("REELKIT_BASE_URL", baseUrlRaw, ["http:", "https:"])).origin : null,
    trustProxy: parseTrustProxy(get("REELKIT_TRUST_PROXY")),
    adminEmails: (get("REELKIT_ADMIN_EMAILS") ?? "")
      .split(",")
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean),
    mediaUrlTtlSeconds: parseDuration("REELKIT_MEDIA_URL_TTL", get("REELKIT_MEDIA_URL_TTL") ?? "1h"),
    sessionTtlSeconds: parseDuration("REELKIT_SESSION_TTL", get("REELKIT_SESSION_TTL") ?? "7d"),
    jwtTtlSeconds: parseDuration("REELKIT_JWT_TTL", get("REELKIT_JWT_TTL") ?? "15m"),
    authRateLimit: parseRateLimit("REELKIT_AUTH_RATE_LIMIT", get("REELKIT_AUTH_RATE_LIMIT") ?? "10/1m"),
    uploadRateLimit: parseRateLimit("REELKIT_UPLOAD_RATE_LIMIT", get("REELKIT_UPLOAD_RATE_LIMIT") ?? "30/1m"),
    maxUnfinishedUploads: parseInteger(
      "REELKIT_MAX_UNFINISHED_UPLOADS",
      get("REELKIT_MAX_UNFINISHED_UPLOADS") ?? "10",
      1,
      100_000,
    ),
    google: google ? { clientId: google[0], clientSecret: google[1] } : null,
    oidc:
      oidcIssuer && oidcClient
        ? {
            issuer: parseUrl("OIDC_ISSUER", oidcIssuer, ["http:", "https:"]).replace(/\/+$/, ""),
            clientId: oidcClient[0],
            clientSecret: oidcClient[1],
            name: get("OIDC_NAME") ?? "OpenID Connect",
          }
        : null,
    searchLanguage,
    transcoder,
    kafkaBrokers,
    kafkaPartitions: parseInteger("REELKIT_KAFKA_PARTITIONS", get("REELKIT_KAFKA_PARTITIONS") ?? "6", 1, 10_000),
    kafkaReplicationFactor: parseInteger(
      "REELKIT_KAFKA_REPLICATION_FACTOR",
      get("REELKIT_KAFKA_REPLICATION_FACTOR") ?? "1",
      1,
      100,
    ),
    kafkaTopicPrefix: (() => {
      const prefix = get("REELKIT_KAFKA_TOPIC_PREFIX") ?? "";
      if (!/^[A-Za-z0-9._-]{0,100}$/.test(prefix)) {
        throw new ConfigError(
          "REELKIT_KAFKA_TOPIC_PREFIX",
          `letters, digits, '.', '_' and '-' only, got ${JSON.stringify(prefix)}`,
        );
      }
      return prefix;
    })(),
    jobMaxAttempts: parseInteger("REELKIT_JOB_MAX_ATTEMPTS", get("REELKIT_JOB_MAX_ATTEMPTS") ?? "5", 1, 100),
    jobBackoffMs: parseDuration("REELKIT_JOB_BACKOFF", get("REELKIT_JOB_BACKOFF") ?? "2s") * 1000,
    jobLeaseMs: parseDuration("REELKIT_JOB_LEASE", get("REELKIT_JOB_LEASE") ?? "30s") * 1000,
    staleJobSeconds: parseDuration("REELKIT_STALE_JOB_AFTER", get("REELKIT_STALE_JOB_AFTER") ?? "15m"),
    metricsToken: parseMetricsToken(get("REELKIT_METRICS_TOKEN")),
  };
}
