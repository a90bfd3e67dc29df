import type { IncomingMessage, ServerResponse } from "node:http";
import type { Config } from "@reelkit/core";
import type { FastifyInstance } from "fastify";
import helmet, { type HelmetOptions } from "helmet";

/**
 * Helmet's headers for `options`, worked out once. None of them depends on the request (no CSP
 * nonces), so every reply can carry the same set; @fastify/helmet instead rebuilds the
 * middleware, parsing every option again, on each request: per-request work that does not
 * depend on the request does not belong on the hot path (figures in docs/benchmarks.md).
 */
export function securityHeaders(options: Readonly<HelmetOptions>): Readonly<Record<string, string>> {
  const headers: Record<string, string> = {};
  const res = {
    setHeader: (name: string, value: string | number) => {
      headers[name.toLowerCase()] = String(value);
    },
    removeHeader: (name: string) => {
      delete headers[name.toLowerCase()];
    },
  };
  // Helmet's middleware only sets and removes response headers, synchronously.
  helmet(options)({} as IncomingMessage, res as unknown as ServerResponse, (err?: unknown) => {
    if (err) throw err;
  });
  return Object.freeze(headers);
}

/** What the API and error replies carry: they are never documents that load anything. */
export const API_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'";

/**
 * What media files carry. Opened on their own in a tab, a poster or storyboard becomes the
 * browser's image (or text) document, which styles itself inline; nothing else may run there.
 */
export const MEDIA_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'; sandbox; frame-ancestors 'none'";

/**
 * Origins other than the page's own that media URLs point at: `REELKIT_PUBLIC_URL` (the API's
 * `/media` URLs, signed ones of PRIVATE videos included, are absolute under it) and
 * `S3_PUBLIC_BASE_URL` (the bucket or its CDN).
 */
export function mediaOrigins(config: Pick<Config, "publicUrl" | "storage">): string[] {
  const bases = [config.publicUrl, config.storage.kind === "s3" ? config.storage.publicBaseUrl : null];
  return [...new Set(bases.filter((b): b is string => b !== null).map((b) => new URL(b).origin))];
}

/**
 * The Content-Security-Policy of the demo's pages: scripts and styles only from the site itself
 * (the Vite build has no inline script or style element; React's `style` props go through the
 * CSSOM, which style-src does not govern), media, images and fetches also from the media origins,
 * `blob:` for what hls.js needs (Media Source Extensions hand the video element a blob: URL, and
 * its transmuxing worker is started from a blob:), and framing as `REELKIT_FRAME_ANCESTORS` says.
 */
export function pageSecurityPolicy(config: Pick<Config, "publicUrl" | "storage" | "frameAncestors">): string {
  const media = mediaOrigins(config);
  const directives: [string, ...string[]][] = [
    ["default-src", "'self'"],
    ["script-src", "'self'"],
    ["style-src", "'self'"],
    ["img-src", "'self'", "blob:", ...media],
    ["media-src", "'self'", "blob:", ...media],
    ["connect-src", "'self'", ...media],
    ["worker-src", "'self'", "blob:"],
    ["object-src", "'none'"],
    ["base-uri", "'self'"],
    ["form-action", "'self'"],
    ["frame-ancestors", ...config.frameAncestors],
  ];
  return directives.map((d) => d.join(" ")).join("; ");
}

/**
 * Better Auth's own error page (`/api/auth/error`, where a failed sign-in with a provider lands)
 * is HTML with an inline style sheet and no script.
 */
const AUTH_ERROR_PAGE = "/api/auth/error";
const AUTH_ERROR_PAGE_POLICY = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'";

// Headers that still let other sites embed the player and read media and the API cross-origin;
// framing is governed by the pages' frame-ancestors, not X-Frame-Options (one origin at most).
const HELMET_OPTIONS: Readonly<HelmetOptions> = {
  contentSecurityPolicy: false,
  xFrameOptions: false,
  crossOriginResourcePolicy: { policy: "cross-origin" },
  // "Sign in with Google" opens the provider in a popup that reports back to its opener.
  crossOriginOpenerPolicy: { policy: "same-origin-allow-popups" },
  strictTransportSecurity: { maxAge: 15_552_000, includeSubDomains: false },
};

/**
 * Puts the security headers on every reply, as it arrives; the routes that hijack their reply
 * (media, tus, the event stream) write `reply.getHeaders()`, these included. The
 * Content-Security-Policy is the API's strict one; the demo's routes replace it with
 * `pageSecurityPolicy` on what they serve. `Strict-Transport-Security` goes only on replies to
 * https requests (`request.protocol`, which follows X-Forwarded-Proto only from a trusted proxy):
 * browsers ignore it over plain http, and an http reply may have been rewritten on the way anyway.
 */
export function registerSecurityHeaders(app: FastifyInstance): void {
  const { "strict-transport-security": hsts, ...rest } = securityHeaders(HELMET_OPTIONS);
  const always = { ...rest, "content-security-policy": API_SECURITY_POLICY };
  app.addHook("onRequest", (request, reply, done) => {
    reply.headers(always);
    if (request.url.startsWith(AUTH_ERROR_PAGE)) reply.header("content-security-policy", AUTH_ERROR_PAGE_POLICY);
    if (hsts && request.protocol === "https") reply.header("strict-transport-security", hsts);
    done();
  });
}
