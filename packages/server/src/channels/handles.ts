import { HANDLE_PATTERN as HANDLE_SOURCE } from "@reelkit/sdk/contract";

/**
 * Channel handles: the `<handle>` of `/c/<handle>`, 3–30 characters of a-z, 0-9, `-` and `_`,
 * starting with a letter or digit; stored lower-case, unique (a database constraint).
 */
export const HANDLE_PATTERN = new RegExp(HANDLE_SOURCE);
export const HANDLE_RULE = "3–30 characters: lower-case letters, digits, - and _, starting with a letter or digit";

/** The handle as stored (trimmed, lower-case), or null when it breaks the rule. */
export function normalizeHandle(raw: string): string | null {
  const handle = raw.trim().toLowerCase();
  return HANDLE_PATTERN.test(handle) ? handle : null;
}

/**
 * A valid handle made from a name or an e-mail address (for sign-ups that chose none, such as
 * Google or OIDC ones): accents dropped, anything outside the alphabet becomes `-`, at most 24
 * characters so a numeric suffix still fits (see `withSuffix`).
 */
export function deriveHandle(from: string): string {
  const local = from.includes("@") ? (from.split("@")[0] ?? "") : from;
  const base = local
    .normalize("NFKD")
    .replace(/\p{M}/gu, "")
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, "-")
    .slice(0, 24)
    .replace(/^[-_]+|[-_]+$/g, "");
  if (base === "") return "user";
  return base.length < 3 ? base.padEnd(3, "0") : base;
}

/** The n-th candidate for a derived handle: `base`, then `base-2`, `base-3`… */
export function withSuffix(base: string, n: number): string {
  return n <= 1 ? base : `${base}-${n}`;
}
