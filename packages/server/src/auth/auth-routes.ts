import type { FastifyInstance, FastifyRequest } from "fastify";
import { errorBody, errors } from "../http/errors.js";
import { toWebHeaders } from "../http/header-bridge.js";
import type { AuthService } from "./auth-service.js";
import { AUTH_BASE_PATH, CLIENT_IP_HEADER } from "./better-auth.js";
import { CALLBACK_FIELDS, claimedOrigin, isTrustedCallback, ownOrigin } from "./origins.js";

export interface AuthRoutesOptions {
  auth: AuthService;
}

/** Better Auth's error codes (SCREAMING_SNAKE) pass through; anything else gets a status-based one. */
function codeFor(status: number, code: unknown): string {
  if (typeof code === "string" && /^[A-Z][A-Z0-9_]*$/.test(code)) return code;
  if (status === 429) return "RATE_LIMITED";
  if (status === 401) return "UNAUTHORIZED";
  if (status === 403) return "FORBIDDEN";
  if (status === 404) return "NOT_FOUND";
  return status >= 500 ? "INTERNAL" : "VALIDATION_FAILED";
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);
/** Proxy headers that name the request's origin; Better Auth sees only what Fastify made of them. */
const FORWARDED_ORIGIN_HEADERS = ["forwarded", "x-forwarded-host", "x-forwarded-proto"];

/** The callback URLs a request carries, in its query string and its JSON or form body. */
function callbackUrls(request: FastifyRequest): [field: string, value: unknown][] {
  const found: [string, unknown][] = [];
  const query = new URL(request.url, "http://query.invalid").searchParams;
  for (const field of CALLBACK_FIELDS) for (const value of query.getAll(field)) found.push([field, value]);
  if (!(request.body instanceof Buffer) || request.body.length === 0) return found;
  const type = String(request.headers["content-type"] ?? "");
  let body: Record<string, unknown> = {};
  try {
    if (type.includes("json")) body = JSON.parse(request.body.toString("utf8")) ?? {};
    else if (type.includes("x-www-form-urlencoded")) {
      body = Object.fromEntries(new URLSearchParams(request.body.toString("utf8")));
    }
  } catch {
    return found; // not parseable: Better Auth refuses it
  }
  if (typeof body !== "object") return found;
  for (const field of CALLBACK_FIELDS) if (body[field] !== undefined) found.push([field, body[field]]);
  return found;
}

/**
 * What Better Auth does not check itself: it compares the Origin of a mutation with the
 * trusted origins only when the request carries a cookie (and on sign-in and sign-up), so a
 * bearer-authenticated page of a foreign origin could still change a password or sign out.
 * Every mutation whose Origin (else Referer) is foreign is refused here, and so is a callback
 * URL off the trusted origins wherever it appears; a client that sends neither header (curl, a
 * backend) is not a browser acting for someone else and goes through.
 */
function guard(request: FastifyRequest, trusted: readonly string[]): void {
  if (!SAFE_METHODS.has(request.method)) {
    const origin = claimedOrigin(request.headers);
    if (origin !== undefined && !trusted.includes(origin)) throw errors.csrf();
  }
  for (const [field, value] of callbackUrls(request)) {
    if (typeof value === "string" && value !== "" && !isTrustedCallback(value, trusted)) {
      throw errors.invalidCallbackUrl(field);
    }
  }
}

/**
 * `/api/auth/*`: every Better Auth endpoint (sign-up, sign-in, sign-out, session, social and
 * OIDC sign-in and callbacks, JWKS) through one catch-all route that hands Better Auth a web
 * `Request` and copies its `Response` back, every `Set-Cookie` included. Its error bodies are
 * turned into Reelkit's `{ error: { code, message } }`.
 */
export async function authRoutes(app: FastifyInstance, opts: AuthRoutesOptions): Promise<void> {
  const { auth } = opts;
  // Better Auth parses the body itself: hand it the raw bytes, whatever the content type.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "buffer", bodyLimit: 64 * 1024 }, (_req, body, done) => done(null, body));

  app.route({
    method: ["GET", "POST"],
    url: `${AUTH_BASE_PATH}/*`,
    // Better Auth's own endpoints: documented by Better Auth, not in Reelkit's OpenAPI document.
    schema: { hide: true },
    handler: async (request, reply) => {
      guard(request, auth.trustedOrigins(request));
      const headers = toWebHeaders(
        request.headers,
        (name) => name === CLIENT_IP_HEADER || FORWARDED_ORIGIN_HEADERS.includes(name),
      );
      // Fastify has weighed the proxy headers against REELKIT_TRUST_PROXY: Better Auth gets its
      // answer (and trusts proxy headers only when a proxy is trusted at all).
      if (auth.trustsProxy) {
        headers.set("x-forwarded-host", request.host);
        headers.set("x-forwarded-proto", request.protocol);
      }
      // Rate limits key on the client address Fastify saw: the socket's, or the one a trusted
      // proxy reports in X-Forwarded-For.
      headers.set(CLIENT_IP_HEADER, request.ip);
      let url: URL;
      try {
        url = new URL(request.url, ownOrigin(request));
      } catch {
        throw errors.validation("The request's Host (or forwarded host) is not a valid host");
      }
      const body = request.body instanceof Buffer && request.body.length > 0 ? new Uint8Array(request.body) : undefined;
      const response = await auth.betterAuth.handler(
        new Request(url, { method: request.method, headers, body: request.method === "GET" ? undefined : body }),
      );
      // Better Auth answers a failed query as its own 500: a database that is down is a 503
      // (with Retry-After), not a failure of the request.
      if (response.status >= 500 && !(await auth.databaseAnswers().catch(() => true))) {
        throw errors.databaseUnavailable();
      }

      reply.status(response.status);
      response.headers.forEach((value, name) => {
        if (name !== "set-cookie" && name !== "content-length") reply.header(name, value);
      });
      // Secure behind https: Better Auth decides from REELKIT_BASE_URL when it is set; a server
      // that takes its origin from each request learns of TLS from the socket, or from the
      // X-Forwarded-Proto of a proxy REELKIT_TRUST_PROXY trusts.
      const https = request.protocol === "https";
      const cookies = response.headers
        .getSetCookie()
        .map((c) => (https && !/;\s*secure\b/i.test(c) ? `${c}; Secure` : c));
      if (cookies.length > 0) reply.header("set-cookie", cookies);
      const text = await response.text();
      if (response.status >= 400 && (response.headers.get("content-type") ?? "").includes("json")) {
        let parsed: { code?: unknown; message?: unknown } = {};
        try {
          parsed = JSON.parse(text);
        } catch {
          // not JSON after all: fall through with an empty message
        }
        const message = typeof parsed.message === "string" && parsed.message ? parsed.message : "Request failed";
        return reply.send(errorBody(codeFor(response.status, parsed.code), message));
      }
      return reply.send(text === "" ? null : text);
    },
  });
}
