import {
  boolean,
  ConfigError,
  directory,
  duration,
  integer,
  LOG_LEVELS,
  list,
  matching,
  oneOf,
  type Parser,
  parseDuration,
  parseFrameAncestors,
  parseInteger,
  parseTrustProxy,
  rateLimit,
  size,
  text,
  url,
} from "./config-parsers.js";

/**
 * One environment variable: how it is read, its default and its line in the
 * configuration table (docs/configuration.md). `loadConfig`, the set of known `REELKIT_*` names and that table
 * (scripts/config-docs.ts) all derive from `VARIABLES`.
 */
export type Variable = VariableReading & VariableDoc;

interface VariableReading {
  /** The value when the variable is unset or empty, written as in the environment. */
  readonly default?: string;
  /** Read when the variable itself is unset (an older or more widely known name). */
  readonly alias?: string;
  /** Turns the trimmed raw value (or the default) into the value; errors name the variable. */
  readonly parse?: Parser<unknown>;
  /** The `Config` field this variable alone sets; variables read together (storage, sign-in providers) have none. */
  readonly field?: string;
  /** Unit of the parsed value: bytes, or seconds or ms for durations (the field name ends in `Seconds` or `Ms`). */
  readonly unit?: "bytes" | "seconds" | "ms";
}

type VariableDoc =
  | {
      /** The table's meaning column (Markdown; links are relative to docs/). */
      readonly doc: string;
      /** The table's default column, when more than the default written as is. */
      readonly defaultDoc?: string;
      /** The table's row names more variables of the same family than are declared (`AWS_*`). */
      readonly more?: boolean;
    }
  | {
      /** Documented on the table's row of this (earlier) variable: a pair or family sharing one meaning. */
      readonly row: string;
      readonly defaultDoc?: string;
    };

const HTTP = ["http:", "https:"];

/** A bucket name S3 and S3-compatible servers accept. */
const bucketName: Parser<string> = (raw, { variable }) => {
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(raw)) {
    throw new ConfigError(variable, `not a valid bucket name: ${JSON.stringify(raw)}`);
  }
  return raw;
};

/** Ladder rung heights, distinct, largest first. */
const rungs: Parser<number[]> = (raw, { variable }) => {
  const heights = raw.split(",").map((s) => parseInteger(variable, s, 72, 4320));
  if (heights.length === 0) throw new ConfigError(variable, "needs at least one rung");
  heights.sort((a, b) => b - a);
  if (new Set(heights).size !== heights.length) throw new ConfigError(variable, "rungs must be distinct");
  return heights;
};

/** `5s,5m,30m`: the delays between attempts, in seconds (1 to 20 of them, each at most a day). */
const retrySchedule: Parser<number[]> = (raw, { variable }) => {
  const delays = raw.split(",").map((s) => parseDuration(variable, s));
  if (delays.length > 20) throw new ConfigError(variable, "at most 20 retries");
  if (delays.some((d) => d > 86_400)) throw new ConfigError(variable, "each delay at most 24h");
  return delays;
};

/** A duration of at most 30 s, in milliseconds. */
const webhookTimeout: Parser<number> = (raw, { variable }) => {
  const seconds = parseDuration(variable, raw);
  if (seconds > 30) throw new ConfigError(variable, "at most 30s");
  return seconds * 1000;
};

const brokers: Parser<string[]> = (raw, context) => {
  const entries = list(raw, context);
  for (const broker of entries) {
    if (!/^[A-Za-z0-9.-]+:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(broker)) {
      throw new ConfigError(context.variable, `expected host:port[,host:port…], got ${JSON.stringify(broker)}`);
    }
  }
  return entries;
};

const secret: Parser<string> = (raw, { variable }) => {
  if (raw.length < 32) throw new ConfigError(variable, "must be at least 32 characters");
  return raw;
};

/** A bearer token: long enough not to be guessed, and only characters a header carries as-is. */
const bearerToken: Parser<string> = (raw, { variable }) => {
  if (raw.length < 16) throw new ConfigError(variable, "must be at least 16 characters");
  if (!/^[\x21-\x7e]+$/.test(raw)) throw new ConfigError(variable, "must be printable ASCII without spaces");
  return raw;
};

const emails: Parser<string[]> = (raw, context) => list(raw, context).map((s) => s.toLowerCase());

/** Every environment variable Reelkit reads, in the order of the configuration table. */
export const VARIABLES = {
  PORT: { field: "port", default: "3000", parse: integer(0, 65535), doc: "HTTP port" },
  HOST: { field: "host", default: "0.0.0.0", parse: text, doc: "interface to listen on" },
  REELKIT_DATA_DIR: {
    field: "dataDir",
    default: "./data",
    parse: directory,
    doc: "all local state: `db/` (the embedded PostgreSQL), `media/` (uploads and videos), `reelkit.lock`; one process per directory",
  },
  DATABASE_URL: {
    field: "databaseUrl",
    parse: url(["postgres:", "postgresql:"]),
    doc: "PostgreSQL URL; the embedded PostgreSQL in `REELKIT_DATA_DIR/db` when unset",
  },
  REELKIT_STORAGE: {
    default: "local",
    parse: oneOf(["local", "s3"]),
    doc: "`local` (`REELKIT_DATA_DIR/media`) or `s3` (every byte in one S3 bucket: tus uploads, sources, HLS, images)",
  },
  S3_BUCKET: { parse: bucketName, doc: "`REELKIT_STORAGE=s3`: the bucket (must exist)" },
  S3_REGION: {
    alias: "AWS_REGION",
    default: "us-east-1",
    parse: text,
    doc: "`REELKIT_STORAGE=s3`: the bucket's region",
  },
  S3_ENDPOINT: {
    parse: url(HTTP),
    defaultDoc: "— (AWS)",
    doc: "`REELKIT_STORAGE=s3`: URL of an S3-compatible server (MinIO, versitygw, Ceph, R2 …)",
  },
  S3_FORCE_PATH_STYLE: {
    parse: boolean,
    defaultDoc: "`true` with `S3_ENDPOINT`, else `false`",
    doc: "`REELKIT_STORAGE=s3`: path-style URLs (`<endpoint>/<bucket>/<key>`)",
  },
  S3_PUBLIC_BASE_URL: {
    parse: url(HTTP, { trimSlashes: true }),
    doc: "`REELKIT_STORAGE=s3`: playback and image URLs point here (a CDN or the public bucket URL, followed by the object key); unset, media is served through the server's `/media` (a private bucket)",
  },
  AWS_ACCESS_KEY_ID: {
    more: true,
    doc: "`REELKIT_STORAGE=s3`: credentials, found by the AWS SDK's standard chain (environment, shared files, SSO, container and instance roles)",
  },
  AWS_SECRET_ACCESS_KEY: { row: "AWS_ACCESS_KEY_ID" },
  AWS_PROFILE: { row: "AWS_ACCESS_KEY_ID" },
  REELKIT_MAX_UPLOAD_SIZE: {
    field: "maxUploadSize",
    default: "10GiB",
    parse: size,
    unit: "bytes",
    doc: "largest upload (`500MB`, `2GiB`, bytes); larger → 413 `UPLOAD_TOO_LARGE`",
  },
  REELKIT_UPLOAD_EXPIRY: {
    field: "uploadExpirySeconds",
    default: "24h",
    ...duration("seconds"),
    doc: "an upload is removed this long after its last write (`30m`, `7d`, seconds): unfinished ones expire, finished ones stop answering `HEAD`",
  },
  REELKIT_PUBLIC_URL: {
    field: "publicUrl",
    parse: url(HTTP, { trimSlashes: true }),
    doc: "origin used in the URLs the API hands out (e.g. a CDN); relative when unset",
  },
  REELKIT_FRAME_ANCESTORS: {
    field: "frameAncestors",
    default: "*",
    parse: (raw, { variable }) => parseFrameAncestors(variable, raw),
    doc: "comma-separated sources that may frame Reelkit's pages and player (`'self'`, `'none'`, `*` or origins such as `https://blog.example`): the CSP `frame-ancestors` on every reply; no `X-Frame-Options` is sent",
  },
  REELKIT_CORS_ORIGINS: {
    field: "corsOrigins",
    default: "*",
    parse: list,
    doc: "comma-separated origins whose pages may call the API and upload (`https://a.example,https://b.example`); `*` allows any. Preflights allow `GET, HEAD, POST, PUT, PATCH, DELETE` and the tus headers; replies expose `Location`, `Upload-*`, `Tus-*` and `Reelkit-Video-Id`; also the origins trusted for cookie-authenticated mutations (CSRF check) besides the server's own",
  },
  REELKIT_SECRET: {
    field: "secret",
    parse: secret,
    defaultDoc: "generated into `REELKIT_DATA_DIR/secret`",
    doc: "signs sessions, tokens and media URLs (≥ 32 characters); **required** with `NODE_ENV=production` (the server refuses to start without it) and for several servers sharing one database",
  },
  REELKIT_BASE_URL: {
    field: "baseUrl",
    parse: (raw, context) => new URL(url(HTTP)(raw, context)).origin,
    defaultDoc: "each request's own origin",
    doc: "the server's public origin (`https://video.example.com`): sign-in callbacks, Secure cookies behind https; with it set, the only origin of its own the server trusts",
  },
  REELKIT_TRUST_PROXY: {
    field: "trustProxy",
    default: "false",
    parse: (raw, { variable }) => parseTrustProxy(raw, variable),
    doc: "which proxies' `X-Forwarded-For`, `-Host` and `-Proto` count (Fastify's `trustProxy`): `false` (none: the socket address and the `Host` header), `true` (any), a hop count (`1`: the peer is the proxy; only for a server nothing else can reach) or comma-separated addresses and CIDRs (`loopback`, `10.0.0.0/8`, `::1`); the client address of rate limits, the request's own origin and Secure cookies follow it",
  },
  REELKIT_ADMIN_EMAILS: {
    field: "adminEmails",
    default: "",
    parse: emails,
    doc: "comma-separated e-mail addresses that become admins when they sign up (the first user of a fresh installation always does)",
  },
  REELKIT_MEDIA_URL_TTL: {
    field: "mediaUrlTtlSeconds",
    default: "1h",
    ...duration("seconds"),
    doc: "how long the signed media URLs of a PRIVATE video stay valid",
  },
  REELKIT_SESSION_TTL: {
    field: "sessionTtlSeconds",
    default: "7d",
    ...duration("seconds"),
    doc: "lifetime of a sign-in session (`12h`, `30d`, seconds)",
  },
  REELKIT_JWT_TTL: {
    field: "jwtTtlSeconds",
    default: "15m",
    ...duration("seconds"),
    doc: "lifetime of the JWTs from `GET /api/auth/token`",
  },
  SMTP_URL: {
    field: "smtpUrl",
    parse: url(["smtp:", "smtps:"]),
    defaultDoc: "none: mails go to the server log and the admin's outbox page",
    doc: "the SMTP server for password-reset and verification mails (`smtps://user:pass@mail.example.com`, `smtp://localhost:25`); unset, each mail is written to the server log and kept (the last 100) for an admin at `/admin/outbox` of the demo site (`GET /api/admin/mail`); see [Accounts](./accounts-and-channels.md#password-reset-and-e-mail-verification)",
  },
  REELKIT_MAIL_FROM: {
    field: "mailFrom",
    default: "Reelkit <reelkit@localhost>",
    parse: text,
    doc: "the From of the server's mails (`Videos <no-reply@video.example.com>`)",
  },
  REELKIT_REQUIRE_EMAIL_VERIFICATION: {
    field: "requireEmailVerification",
    default: "false",
    parse: boolean,
    doc: "`true`: an e-mail + password account signs in only once its address is verified (a sign-in before that is 403 `EMAIL_NOT_VERIFIED` and sends a new link); `false`: verification is offered, not required",
  },
  REELKIT_PASSWORD_RESET_TTL: {
    field: "passwordResetTtlSeconds",
    default: "1h",
    ...duration("seconds"),
    doc: "how long a password-reset link stays valid (it works once)",
  },
  GOOGLE_CLIENT_ID: {
    parse: text,
    doc: 'both set: "Sign in with Google" (redirect URI `<origin>/api/auth/callback/google`)',
  },
  GOOGLE_CLIENT_SECRET: { parse: text, row: "GOOGLE_CLIENT_ID" },
  OIDC_ISSUER: {
    parse: url(HTTP, { trimSlashes: true }),
    doc: "all three set: sign-in with that OpenID Connect issuer (discovery at `<issuer>/.well-known/openid-configuration`; redirect URI `<origin>/api/auth/callback/oidc`; the client authenticates with HTTP Basic)",
  },
  OIDC_CLIENT_ID: { parse: text, row: "OIDC_ISSUER" },
  OIDC_CLIENT_SECRET: { parse: text, row: "OIDC_ISSUER" },
  OIDC_NAME: {
    default: "OpenID Connect",
    parse: text,
    doc: 'the issuer\'s name on the sign-in page ("Sign in with …")',
  },
  REELKIT_AUTH_RATE_LIMIT: {
    field: "authRateLimit",
    default: "10/1m",
    parse: rateLimit,
    doc: "sign-in and sign-up attempts per client address (each) per window → 429 `RATE_LIMITED`",
  },
  REELKIT_UPLOAD_RATE_LIMIT: {
    field: "uploadRateLimit",
    default: "30/1m",
    parse: rateLimit,
    doc: "upload creations per caller per window → 429 `RATE_LIMITED`",
  },
  REELKIT_MAX_UNFINISHED_UPLOADS: {
    field: "maxUnfinishedUploads",
    default: "10",
    parse: integer(1, 100_000),
    doc: "unfinished uploads one user may have at once → 429 `UPLOAD_LIMIT_REACHED`",
  },
  REELKIT_RUNGS: {
    field: "rungs",
    default: "1080,720,480,360,180",
    parse: rungs,
    doc: "ladder rung heights; never upscaled",
  },
  REELKIT_TRANSCODE_CONCURRENCY: {
    field: "transcodeConcurrency",
    default: "auto",
    parse: ((raw, context) =>
      raw.trim().toLowerCase() === "auto" ? ("auto" as const) : parseInteger(context.variable, raw, 1, 64)) as Parser<
      number | "auto"
    >,
    doc: "transcode jobs at once in this process: `auto` runs five playable phases per core (one per 256 MiB of memory at most; a fifth kept for owners with none running) and a ladder per core beside them at a lower CPU priority; a number caps both",
  },
  REELKIT_TRANSCODE_SHARES: {
    field: "transcodeShares",
    default: "",
    parse: ((raw, { variable }) => {
      const shares: Record<string, number> = {};
      for (const item of raw
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean)) {
        const at = item.lastIndexOf("=");
        const weight = Number(item.slice(at + 1));
        if (at <= 0 || !(weight > 0 && weight <= 1000))
          throw new ConfigError(variable, `expected owner=weight pairs (weight 0..1000), got ${JSON.stringify(item)}`);
        shares[item.slice(0, at)] = weight;
      }
      return shares;
    }) as Parser<Record<string, number>>,
    doc: "fair-queue weights of transcode owners, `ownerId=weight,…` (default weight 1): an owner with 3 gets three jobs started per turn of a weight-1 owner",
  },
  REELKIT_TRANSCODER: {
    field: "transcoder",
    default: "inline",
    parse: oneOf(["inline", "off"]),
    doc: "`reelkit-server` only: `inline` runs the transcoder in the server process; `off` leaves the jobs to `reelkit-transcoder` processes",
  },
  KAFKA_BROKERS: {
    field: "kafkaBrokers",
    default: "",
    parse: brokers,
    doc: "Kafka bootstrap brokers (`host:port,…`): the bus is Kafka; unset: a durable job queue in the catalog database",
  },
  REELKIT_KAFKA_PARTITIONS: {
    field: "kafkaPartitions",
    default: "6",
    parse: integer(1, 10_000),
    doc: "partitions of each topic Reelkit creates when missing (existing topics are left alone)",
  },
  REELKIT_KAFKA_REPLICATION_FACTOR: {
    field: "kafkaReplicationFactor",
    default: "1",
    parse: integer(1, 100),
    doc: "replication factor of the topics Reelkit creates",
  },
  REELKIT_KAFKA_TOPIC_PREFIX: {
    field: "kafkaTopicPrefix",
    default: "",
    parse: matching(/^[A-Za-z0-9._-]{0,100}$/, "letters, digits, '.', '_' and '-' only"),
    doc: "prepended to Reelkit's topic and consumer group names (several deployments on one cluster)",
  },
  REELKIT_JOB_MAX_ATTEMPTS: {
    field: "jobMaxAttempts",
    default: "5",
    parse: integer(1, 100),
    doc: "deliveries of a bus message before it is parked (dead-letter topic / parked row) and its video FAILED",
  },
  REELKIT_JOB_BACKOFF: {
    field: "jobBackoffMs",
    default: "2s",
    ...duration("ms"),
    doc: "delay before the first redelivery after a failure; doubles each time, up to 60 s",
  },
  REELKIT_JOB_LEASE: {
    field: "jobLeaseMs",
    default: "30s",
    ...duration("ms"),
    doc: "job queue only: a job whose worker stopped renewing its lease this long goes to another worker (a crashed process on the same host is detected at once)",
  },
  REELKIT_WEBHOOK_RETRY_SCHEDULE: {
    field: "webhookRetrySeconds",
    default: "5s,5m,30m,2h,5h,10h,10h",
    parse: retrySchedule,
    unit: "seconds",
    doc: "delays between a webhook delivery's attempts (the first is at once); after the last one fails the endpoint is disabled with the reason. The default retries for about 28 h",
  },
  REELKIT_WEBHOOK_TIMEOUT: {
    field: "webhookTimeoutMs",
    default: "10s",
    parse: webhookTimeout,
    unit: "ms",
    doc: "how long one webhook delivery may take, connecting, sending and reading the answer (at most 30 s)",
  },
  REELKIT_WEBHOOK_ALLOW_PRIVATE: {
    field: "webhookAllowPrivate",
    default: "false",
    parse: boolean,
    doc: "`true` lets webhook endpoints resolve to loopback, private, link-local and unique-local addresses (development and tests); refused otherwise, at registration and at each delivery",
  },
  REELKIT_STALE_JOB_AFTER: {
    field: "staleJobSeconds",
    default: "15m",
    ...duration("seconds"),
    doc: "Kafka only: a QUEUED/PROCESSING video with no event for this long is queued again by the sweep",
  },
  REELKIT_METRICS_TOKEN: {
    field: "metricsToken",
    parse: bearerToken,
    doc: "bearer token `GET /metrics` requires of every client, loopback included (≥ 16 printable characters; else 401); unset: `/metrics` answers loopback clients only (others: 403). Server and transcoder alike",
  },
  REELKIT_LOG_LEVEL: {
    field: "logLevel",
    alias: "LOG_LEVEL",
    default: "info",
    parse: oneOf(LOG_LEVELS, `one of ${LOG_LEVELS.join(", ")}`),
    doc: "pino level; at `info` one access-log line per request (`request completed`: method, url, statusCode, responseTime, remoteAddress)",
  },
  REELKIT_TYPEAHEAD_MAX_TITLES: {
    field: "typeaheadMaxTitles",
    default: "250000",
    parse: integer(0, 10_000_000),
    doc: "distinct READY PUBLIC titles the typeahead keeps in memory (about 250 bytes each: 40 MB for the 170,000 titles of a million-video catalog), answering every prefix without the database; reloaded at most every 10 s after a READY video changes (the database answers meanwhile); a catalog with more, or 0, asks the database (an index range per prefix, cached)",
  },
  REELKIT_SEARCH_LANGUAGE: {
    field: "searchLanguage",
    default: "simple",
    parse: matching(/^[a-z_][a-z0-9_]{0,62}$/, "expected a text search configuration name such as english", (raw) =>
      raw.toLowerCase(),
    ),
    doc: "PostgreSQL text-search configuration of catalog search (`english`, `french`, … stem words; `simple` does not); a change rewrites every stored search vector once at start; every instance must use the same value",
  },
  NODE_OPTIONS: {
    defaultDoc: "`npm start`: `--max-semi-space-size=4 --max-old-space-size=512`",
    doc: 'Node\'s own; `npm start` gives the server these V8 heap bounds (young generation ≤ 8 MiB, old-space ceiling 512 MiB: see [Benchmarks](benchmarks.md), read load) and keeps any other flag given; a value that sets either flag (or `--max-heap-size`) replaces that default. Running `packages/server/dist/bin.js` (`reelkit-server`) directly, pass them yourself (e.g. `NODE_OPTIONS="--max-semi-space-size=4 --max-old-space-size=512"`)',
  },
  REELKIT_DEMO_DIR: {
    field: "demoDir",
    parse: directory,
    defaultDoc: "— (`npm start`: `apps/demo/dist`)",
    doc: "directory of a built demo site to serve at `/`; empty: none",
  },
  FFMPEG_PATH: { field: "ffmpegPath", parse: text, doc: "FFmpeg binaries, when not on `PATH`" },
  FFPROBE_PATH: { field: "ffprobePath", parse: text, row: "FFMPEG_PATH" },
  // Read by tools beside the server (the SDK's CLI, tests, the demo's build, scripts/*.sh): known
  // names, documented here, parsed where they are read.
  REELKIT_URL: {
    default: "http://localhost:3000",
    doc: "the `reelkit upload` CLI of `@reelkit/sdk`: server and bearer token (an API key `rk_…`, a session token or its JWT, or an upload token)",
  },
  REELKIT_TOKEN: { row: "REELKIT_URL" },
  REELKIT_REQUIRE: {
    doc: "tests only: comma list of engines (`postgres,kafka,s3,browser,ffmpeg,schemathesis,tmpfs`) whose absence fails instead of skipping",
  },
  DATABASE_URL_TEST: { doc: "tests only: a PostgreSQL database the PostgreSQL suites may use" },
  KAFKA_BROKERS_TEST: {
    doc: "tests only: a Kafka broker the Kafka suites may use (each test makes its own topics)",
  },
  CHROMIUM_PATH: { default: "/usr/bin/chromium", doc: "tests only: the Chromium the browser suites drive" },
  SCHEMATHESIS_PATH: {
    defaultDoc: "`schemathesis` on `PATH`",
    doc: "tests only: the schemathesis CLI that fuzzes the API (`scripts/engines.sh start` installs it)",
  },
  S3_ENDPOINT_TEST: {
    doc: "tests and benchmark only: the S3-compatible server the S3 suites use (each suite makes its own bucket), credentials from `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY` (`scripts/engines.sh start` runs versitygw and prints all four)",
  },
  S3_BUCKET_TEST: { row: "S3_ENDPOINT_TEST" },
  VITE_REELKIT_URL: {
    defaultDoc: "page origin",
    doc: "demo build only: the Reelkit server the demo site talks to",
  },
  REELKIT_DEV_SERVER: {
    default: "http://localhost:3000",
    doc: "demo dev server only: where `/api` and `/media` are proxied",
  },
  REELKIT_PG_PORT: {
    default: "54329",
    doc: "`scripts/engines.sh` only: loopback ports of the test PostgreSQL, Kafka and versitygw",
  },
  REELKIT_KAFKA_PORT: { default: "59092", row: "REELKIT_PG_PORT" },
  REELKIT_S3_PORT: { default: "57070", row: "REELKIT_PG_PORT" },
  REELKIT_KAFKA_DIR: {
    default: ".reelkit-engines/kafka",
    doc: "`scripts/engines.sh` only: a Kafka broker's own directory (data, config, log)",
  },
  REELKIT_CACHE_DIR: {
    defaultDoc: "`~/.cache/reelkit`",
    doc: "`scripts/node.sh` and `scripts/engines.sh` only: downloaded Node builds and the versitygw binary, kept across clones",
  },
} as const satisfies Record<string, Variable>;

export type VariableName = keyof typeof VARIABLES;

/** Every `REELKIT_*` name Reelkit or its tools read; any other one is a typo and stops the process. */
export const KNOWN_REELKIT_VARIABLES: ReadonlySet<string> = new Set(
  Object.keys(VARIABLES).filter((name) => name.startsWith("REELKIT_")),
);

type Declared = typeof VARIABLES;
type Parsed<V> = V extends { parse: Parser<infer T> } ? (V extends { default: string } ? T : T | null) : never;

/** The value of a declared variable: its parsed default when it has one, else null. */
export type VariableValue<N extends VariableName> = Parsed<Declared[N]>;

/** The `Config` fields each set by one variable. */
export type VariableFields = {
  -readonly [N in VariableName as Declared[N] extends { field: infer F extends string } ? F : never]: VariableValue<N>;
};

/**
 * The parsed default of a variable, for code that needs it outside a loaded `Config` (a pure
 * function's default argument, an optional field of a partial config).
 */
export function defaultValue<N extends VariableName>(name: N): VariableValue<N> {
  const variable: Variable = VARIABLES[name];
  if (variable.default === undefined || !variable.parse) return null as VariableValue<N>;
  return variable.parse(variable.default, { variable: name, cwd: process.cwd() }) as VariableValue<N>;
}

/** Default ladder rung heights, largest first (`REELKIT_RUNGS`). */
export const DEFAULT_RUNGS: readonly number[] = defaultValue("REELKIT_RUNGS");
/** Default PostgreSQL text-search configuration of catalog search (`REELKIT_SEARCH_LANGUAGE`). */
export const DEFAULT_SEARCH_LANGUAGE: string = defaultValue("REELKIT_SEARCH_LANGUAGE");
