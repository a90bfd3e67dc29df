import type { FastifyInstance } from "fastify";
import { errorBody } from "../http/errors.js";
import type { AuthService } from "./auth-service.js";
import { AUTH_BASE_PATH, CLIENT_IP_HEADER } from "./better-auth.js";

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
      const headers = new Headers();
      for (const [name, value] of Object.entries(request.headers)) {
        if (value === undefined || name === CLIENT_IP_HEADER) continue;
        for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
      }
      // Rate limits key on the client address Fastify saw (behind a proxy: set trustProxy there).
      headers.set(CLIENT_IP_HEADER, request.ip);
      const url = new URL(request.url, `${request.protocol}://${request.host}`);
      const body = request.body instanceof Buffer && request.body.length > 0 ? new Uint8Array(request.body) : undefined;
      const response = await auth.betterAuth.handler(
        new Request(url, { method: request.method, headers, body: request.method === "GET" ? undefined : body }),
      );

      reply.status(response.status);
      response.headers.forEach((value, name) => {
        if (name !== "set-cookie" && name !== "content-length") reply.header(name, value);
      });
      // Secure behind https: Better Auth decides from REELKIT_BASE_URL when it is set; a server
      // that takes its origin from each request learns of TLS from its proxy's X-Forwarded-Proto.
      const forwarded = String(request.headers["x-forwarded-proto"] ?? "")
        .split(",")[0]
        ?.trim();
      const https = request.protocol === "https" || forwarded === "https";
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
