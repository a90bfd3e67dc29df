import { isIP } from "node:net";
import path from "node:path";

/** A configuration variable that is unknown, missing or invalid; the message starts with its name. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = "ConfigError";
  }
}

/** What a parser knows besides the raw (trimmed, non-empty) value. */
export interface ParseContext {
  /** The variable being read: every error names it. */
  variable: string;
  /** Relative paths resolve against this directory. */
  cwd: string;
}

export type Parser<T> = (raw: string, context: ParseContext) => T;

export type TrustProxy = boolean | number | string[];

export interface RateLimit {
  max: number;
  windowSeconds: number;
}

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

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

export function parseInteger(variable: string, raw: string, min: number, max: number): number {
  if (!/^\s*\d+\s*$/.test(raw)) throw new ConfigError(variable, `expected an integer, got ${JSON.stringify(raw)}`);
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigError(variable, `must be between ${min} and ${max}, got ${n}`);
  return n;
}

export function parseUrl(variable: string, raw: string, protocols: string[]): string {
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

export function parseBoolean(variable: string, raw: string): boolean {
  const v = raw.toLowerCase();
  if (["1", "true", "yes", "on"].includes(v)) return true;
  if (["0", "false", "no", "off"].includes(v)) return false;
  throw new ConfigError(variable, `expected true or false, got ${JSON.stringify(raw)}`);
}

/** `*`, `'self'`, `'none'` or http(s) origins, comma-separated; anything else would be CSP syntax injected. */
export function parseFrameAncestors(variable: string, raw: string): string[] {
  const sources = splitList(raw);
  if (sources.length === 0) throw new ConfigError(variable, "expected at least one source");
  return sources.map((s) => {
    if (s === "*" || s === "'self'" || s === "'none'") return s;
    return new URL(parseUrl(variable, s, ["http:", "https:"])).origin;
  });
}

const PROXY_NAMES = new Set(["loopback", "linklocal", "uniquelocal"]);

/** `false`, `true`, a hop count, or comma-separated addresses, CIDRs and names. */
export function parseTrustProxy(raw: string | undefined, variable = "REELKIT_TRUST_PROXY"): TrustProxy {
  if (raw === undefined) return false;
  const v = raw.toLowerCase();
  if (v === "true") return true;
  if (v === "false") return false;
  if (/^\d+$/.test(v)) {
    const hops = parseInteger(variable, v, 0, 100);
    return hops === 0 ? false : hops;
  }
  const entries = splitList(v);
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

function splitList(raw: string): string[] {
  return raw
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}

// Parser builders for the variable declarations (config-variables.ts).

export const text: Parser<string> = (raw) => raw;

/** A path, resolved against the working directory. */
export const directory: Parser<string> = (raw, { cwd }) => path.resolve(cwd, raw);

export const list: Parser<string[]> = (raw) => splitList(raw);

export function integer(min: number, max: number): Parser<number> {
  return (raw, { variable }) => parseInteger(variable, raw, min, max);
}

export const size: Parser<number> = (raw, { variable }) => parseSize(variable, raw);

/** A duration as written in the environment (`90s`, `30m`, `24h`, `7d`, or seconds), in the given unit. */
export function duration(unit: "seconds" | "ms"): { unit: "seconds" | "ms"; parse: Parser<number> } {
  const factor = unit === "ms" ? 1000 : 1;
  return { unit, parse: (raw, { variable }) => parseDuration(variable, raw) * factor };
}

export const rateLimit: Parser<RateLimit> = (raw, { variable }) => parseRateLimit(variable, raw);

export const boolean: Parser<boolean> = (raw, { variable }) => parseBoolean(variable, raw);

/** One of `choices`, case-insensitive. */
export function oneOf<const C extends readonly string[]>(
  choices: C,
  expected = choices.join(" or "),
): Parser<C[number]> {
  return (raw, { variable }) => {
    const v = raw.toLowerCase();
    if (!choices.includes(v)) throw new ConfigError(variable, `expected ${expected}, got ${JSON.stringify(v)}`);
    return v;
  };
}

/** A URL with one of `protocols`, trailing slashes removed when `trim`. */
export function url(protocols: string[], options: { trimSlashes?: boolean } = {}): Parser<string> {
  return (raw, { variable }) => {
    const value = parseUrl(variable, raw, protocols);
    return options.trimSlashes ? value.replace(/\/+$/, "") : value;
  };
}

/** `text` that must match `pattern`, else `message` (the raw value is appended). */
export function matching(pattern: RegExp, message: string, transform = (raw: string) => raw): Parser<string> {
  return (raw, { variable }) => {
    const value = transform(raw);
    if (!pattern.test(value)) throw new ConfigError(variable, `${message}, got ${JSON.stringify(value)}`);
    return value;
  };
}
