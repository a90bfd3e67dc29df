import { ConfigError } from "./config-parsers.js";
import {
  KNOWN_REELKIT_VARIABLES,
  VARIABLES,
  type Variable,
  type VariableFields,
  type VariableName,
  type VariableValue,
} from "./config-variables.js";

export {
  ConfigError,
  LOG_LEVELS,
  type LogLevel,
  parseDuration,
  parseRateLimit,
  parseSize,
  parseTrustProxy,
  type RateLimit,
  type TrustProxy,
} from "./config-parsers.js";
export {
  DEFAULT_RUNGS,
  DEFAULT_SEARCH_LANGUAGE,
  defaultValue,
  KNOWN_REELKIT_VARIABLES,
  VARIABLES,
  type Variable,
  type VariableName,
} from "./config-variables.js";

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

/**
 * The one typed configuration of a Reelkit process, read from the environment at runtime.
 * Each field set by one variable is declared once, in `VARIABLES` (config-variables.ts: parser,
 * default, unit, the text of docs/configuration.md); the fields below are read from several variables together.
 * Durations carry their unit in the field name (`…Seconds`, `…Ms`), as their declaration states.
 */
export type Config = VariableFields & {
  /** Object storage: `<dataDir>/media` by default, S3 with `REELKIT_STORAGE=s3`. */
  storage: StorageConfig;
  /** "Sign in with Google" when both are set. */
  google: { clientId: string; clientSecret: string } | null;
  /** Any OpenID Connect provider (discovery at `<issuer>/.well-known/openid-configuration`). */
  oidc: { issuer: string; clientId: string; clientSecret: string; name: string } | null;
};

type Env = Record<string, string | undefined>;

/** Reads declared variables from one environment: trimmed, empty as unset, then alias, then default. */
class Reader {
  constructor(
    private readonly env: Env,
    private readonly cwd: string,
  ) {}

  /** The raw value as set (trimmed), without alias or default; undefined when unset or empty. */
  raw(name: string): string | undefined {
    const v = this.env[name]?.trim();
    return v === undefined || v === "" ? undefined : v;
  }

  /** The parsed value, the parsed default when unset, else null. */
  read<N extends VariableName>(name: N): VariableValue<N> {
    const variable: Variable = VARIABLES[name];
    const raw = this.raw(name) ?? (variable.alias ? this.raw(variable.alias) : undefined) ?? variable.default;
    if (raw === undefined || !variable.parse) return null as VariableValue<N>;
    return variable.parse(raw, { variable: name, cwd: this.cwd }) as VariableValue<N>;
  }
}

export function loadConfig(env: Env = process.env, cwd = process.cwd()): Config {
  for (const name of Object.keys(env)) {
    if (name.startsWith("REELKIT_") && !KNOWN_REELKIT_VARIABLES.has(name)) {
      throw new ConfigError(name, "unknown variable (see the configuration table, docs/configuration.md)");
    }
  }
  const reader = new Reader(env, cwd);

  const fields: Record<string, unknown> = {};
  for (const [name, variable] of Object.entries(VARIABLES) as [VariableName, Variable][]) {
    if (variable.field) fields[variable.field] = reader.read(name);
  }
  const config = fields as VariableFields;

  if (config.secret === null && env.NODE_ENV === "production") {
    throw new ConfigError(
      "REELKIT_SECRET",
      "is required when NODE_ENV=production (e.g. the output of `openssl rand -base64 48`)",
    );
  }
  return { ...config, storage: loadStorageConfig(reader), ...loadSignInProviders(reader) };
}

function loadStorageConfig(reader: Reader): StorageConfig {
  if (reader.read("REELKIT_STORAGE") === "local") return { kind: "local" };
  const bucket = reader.read("S3_BUCKET");
  if (!bucket) throw new ConfigError("S3_BUCKET", "required when REELKIT_STORAGE=s3");
  const endpoint = reader.read("S3_ENDPOINT");
  return {
    kind: "s3",
    bucket,
    region: reader.read("S3_REGION"),
    endpoint,
    // S3-compatible servers mostly serve path-style URLs; AWS prefers virtual-hosted ones.
    forcePathStyle: reader.read("S3_FORCE_PATH_STYLE") ?? endpoint !== null,
    publicBaseUrl: reader.read("S3_PUBLIC_BASE_URL"),
  };
}

function loadSignInProviders(reader: Reader): Pick<Config, "google" | "oidc"> {
  /** Both variables of a pair, or neither. */
  const pair = (a: "GOOGLE_CLIENT_ID" | "OIDC_CLIENT_ID", b: "GOOGLE_CLIENT_SECRET" | "OIDC_CLIENT_SECRET") => {
    const [x, y] = [reader.read(a), reader.read(b)];
    if (!x && !y) return null;
    if (!x || !y) throw new ConfigError(x ? b : a, `must be set together with ${x ? a : b}`);
    return { clientId: x, clientSecret: y };
  };
  const google = pair("GOOGLE_CLIENT_ID", "GOOGLE_CLIENT_SECRET");
  const oidcClient = pair("OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET");
  const hasIssuer = reader.raw("OIDC_ISSUER") !== undefined;
  if (Boolean(oidcClient) !== hasIssuer) {
    throw new ConfigError(
      hasIssuer ? "OIDC_CLIENT_ID" : "OIDC_ISSUER",
      "OIDC_ISSUER, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET go together",
    );
  }
  const issuer = reader.read("OIDC_ISSUER");
  return {
    google,
    oidc: issuer && oidcClient ? { issuer, ...oidcClient, name: reader.read("OIDC_NAME") } : null,
  };
}
