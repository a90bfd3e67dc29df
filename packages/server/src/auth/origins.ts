import type { Config } from "@reelkit/core";
import type { FastifyRequest } from "fastify";

export type OriginConfig = Pick<Config, "baseUrl" | "corsOrigins">;

/** Where a request may send a browser back to after sign-in, verification or a password reset. */
export const CALLBACK_FIELDS = ["callbackURL", "redirectTo", "errorCallbackURL", "newUserCallbackURL"] as const;

/**
 * The scheme and host the request came to: the Host header and the socket's TLS, or the
 * proxy's X-Forwarded-Proto/-Host when REELKIT_TRUST_PROXY trusts that proxy (Fastify's
 * `trustProxy` decides both).
 */
export function ownOrigin(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}`;
}

/**
 * The origins whose pages may act on this server: REELKIT_BASE_URL when set, else the
 * request's own origin, plus every REELKIT_CORS_ORIGINS entry (`*` is never one of them).
 */
export function trustedOrigins(config: OriginConfig, request: FastifyRequest): string[] {
  return [config.baseUrl ?? ownOrigin(request), ...config.corsOrigins.filter((o) => o !== "*")];
}

/**
 * The origin a browser says the request comes from: its Origin, else its Referer's origin
 * ("null" for an opaque one); undefined when it sent neither, as non-browser clients do.
 */
export function claimedOrigin(headers: FastifyRequest["headers"]): string | undefined {
  const origin = headers.origin;
  if (origin) return origin;
  const referer = headers.referer;
  if (!referer) return undefined;
  try {
    return new URL(referer).origin;
  } catch {
    return "null";
  }
}

/**
 * Whether a callback URL stays on a trusted origin (`trusted` as `trustedOrigins` lists them,
 * this server's first): a path here, or an absolute URL on a trusted origin. Resolved the way a
 * browser resolves a redirect, so `//evil.example` and `/\evil.example` are the foreign origins
 * they look like to it.
 */
export function isTrustedCallback(value: string, trusted: readonly string[]): boolean {
  // Control characters are dropped or kept differently by different URL parsers.
  if (/\p{Cc}/u.test(value)) return false;
  try {
    return trusted.includes(new URL(value, trusted[0]).origin);
  } catch {
    return false;
  }
}
