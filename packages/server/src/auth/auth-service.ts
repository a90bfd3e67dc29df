import type { Config, Logger } from "@reelkit/core";
import type { FastifyRequest } from "fastify";
import { ChannelDirectory } from "../channels/channel-directory.js";
import { isDatabaseUnreachable } from "../db/database-errors.js";
import type { PrismaClient } from "../generated/prisma/client.js";
import { errors } from "../http/errors.js";
import { toWebHeaders } from "../http/header-bridge.js";
import { createMailer, type Mailer } from "../mail/mailer.js";
import { EmbedSigner, MediaSigner } from "../media/media-signing.js";
import { API_KEY_PREFIX, ApiKeyService, UPLOAD_TOKEN_PREFIX, UPLOAD_TOKENS_PATH } from "./api-keys.js";
import { COOKIE_PREFIX, createBetterAuth, type ReelkitBetterAuth } from "./better-auth.js";
import { claimedOrigin, trustedOrigins } from "./origins.js";
import type { Principal, UserPrincipal } from "./principal.js";

export interface AuthServiceOptions {
  config: Config;
  prisma: PrismaClient;
  secret: string;
  logger?: Logger;
  /** Where account mails go; `createMailer(config)` (SMTP_URL, else the log and the outbox) when absent. */
  mailer?: Mailer;
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);
/** A compact JWS (header.payload.signature); session tokens have no such shape. */
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
/** Better Auth's session cookie (`reelkit.session_token`, `__Secure-` prefixed behind https). */
const SESSION_COOKIE = `${COOKIE_PREFIX}.session_token=`;

/**
 * Accounts and access: Better Auth for users and sessions, plus the resolution of a request to
 * the principal behind it (session cookie, bearer token).
 */
export class AuthService {
  readonly betterAuth: ReelkitBetterAuth;
  /** Signs the media URLs of PRIVATE videos with the same secret. */
  readonly mediaSigner: MediaSigner;
  /** Signs the embed links of PRIVATE videos (`GET /api/videos/:id/embed`) with the same secret. */
  readonly embedSigner: EmbedSigner;
  /** API keys and upload tokens (Reelkit's own tables). */
  readonly apiKeys: ApiKeyService;
  /** Users as channels: handles, names, avatars and descriptions. */
  readonly channels: ChannelDirectory;
  /** Password-reset and verification mails (the admin's outbox when no SMTP server is set). */
  readonly mailer: Mailer;
  /** Whether REELKIT_TRUST_PROXY trusts any proxy (its forwarded headers then count). */
  readonly trustsProxy: boolean;
  private readonly resolved = new WeakMap<FastifyRequest, Promise<Principal | null>>();
  /** Requests whose credential was refused for a reason worth its own code (not just "unknown"). */
  private readonly refused = new WeakMap<FastifyRequest, "upload-token-expired" | "api-key-scope">();

  constructor(private readonly opts: AuthServiceOptions) {
    this.channels = new ChannelDirectory(opts.prisma);
    this.mailer = opts.mailer ?? createMailer(opts.config, opts.logger);
    this.betterAuth = createBetterAuth({ ...opts, channels: this.channels, mailer: this.mailer });
    this.mediaSigner = new MediaSigner(opts.secret, opts.config.mediaUrlTtlSeconds);
    this.embedSigner = new EmbedSigner(opts.secret);
    this.apiKeys = new ApiKeyService(opts.prisma);
    this.trustsProxy = opts.config.trustProxy !== false;
  }

  /** The origins whose pages may act on this server for this request (see origins.ts). */
  trustedOrigins(request: FastifyRequest): string[] {
    return trustedOrigins(this.opts.config, request);
  }

  /** The principal of a request, or null when it carries no valid credential; cached per request. */
  principal(request: FastifyRequest): Promise<Principal | null> {
    let p = this.resolved.get(request);
    if (!p) {
      p = this.resolve(request);
      this.resolved.set(request, p);
    }
    return p;
  }

  /** The principal, or 401 UNAUTHORIZED; a cookie-authenticated mutation from a foreign origin is 403. */
  async require(request: FastifyRequest): Promise<Principal> {
    const p = await this.principal(request);
    if (!p) {
      const refusal = this.refused.get(request);
      if (refusal === "upload-token-expired") throw errors.uploadTokenExpired();
      if (refusal === "api-key-scope") throw errors.apiKeyScope();
      throw errors.unauthorized();
    }
    if (p.kind === "user" && p.via === "cookie" && !SAFE_METHODS.has(request.method)) this.checkOrigin(request);
    return p;
  }

  /** Whether the principal may see a video of this owner and visibility (PRIVATE: owner or admin). */
  static canView(p: Principal | null, video: { ownerId: string | null; visibility: string }): boolean {
    if (video.visibility !== "PRIVATE") return true;
    if (p?.kind !== "user") return false;
    return p.isAdmin || (video.ownerId !== null && video.ownerId === p.userId);
  }

  /** A signed-in user (not an upload token), or 401/403. */
  async requireUser(request: FastifyRequest): Promise<UserPrincipal> {
    const p = await this.require(request);
    if (p.kind !== "user") throw errors.forbidden("An upload token can only create uploads");
    return p;
  }

  /**
   * CSRF defence for cookie-authenticated mutations: the browser's Origin (or Referer) must be
   * this server's own origin (REELKIT_BASE_URL when set) or one of REELKIT_CORS_ORIGINS.
   * SameSite=Lax already keeps the cookie off cross-site subresource and form POSTs; this also
   * covers same-site origins (a sibling subdomain or port).
   */
  private checkOrigin(request: FastifyRequest): void {
    const origin = claimedOrigin(request.headers);
    if (!origin || !this.trustedOrigins(request).includes(origin)) throw errors.csrf();
  }

  /**
   * A JWT from `/api/auth/token`: its signature, issuer, audience and expiry checked against
   * this server's own keys (the ones `/api/auth/jwks` publishes), and its session still live,
   * so signing out ends its JWTs here at once (other verifiers of the JWKS accept one until it
   * expires). The role comes from the database, not from the token.
   */
  private async resolveJwt(token: string, headers: Headers): Promise<Principal | null> {
    try {
      // The headers only let Better Auth resolve this server's origin when it is not configured.
      const verified = await this.betterAuth.api.verifyJWT({ body: { token }, headers });
      const payload = verified?.payload;
      if (!payload?.sub || typeof payload.sid !== "string") return null;
      const session = await this.opts.prisma.session.findUnique({
        where: { id: payload.sid },
        select: { userId: true, expiresAt: true, user: { select: { role: true } } },
      });
      if (!session || session.userId !== payload.sub || session.expiresAt.getTime() <= Date.now()) return null;
      return { kind: "user", userId: session.userId, isAdmin: session.user.role === "admin", via: "jwt" };
    } catch (err) {
      await this.throwIfDatabaseDown(err);
      this.opts.logger?.warn({ err }, "JWT lookup failed");
      return null;
    }
  }

  /** Resolves when the accounts database answers a query. */
  async databaseAnswers(): Promise<boolean> {
    try {
      await this.opts.prisma.$queryRaw`SELECT 1`;
      return true;
    } catch (err) {
      if (isDatabaseUnreachable(err)) return false;
      throw err;
    }
  }

  /**
   * A credential that could not be checked because the database is down is no reason to treat
   * its holder as signed out (a 401 makes clients drop their session): 503, try again.
   */
  private async throwIfDatabaseDown(err: unknown): Promise<void> {
    if (isDatabaseUnreachable(err) || !(await this.databaseAnswers())) throw errors.databaseUnavailable();
  }

  private async resolve(request: FastifyRequest): Promise<Principal | null> {
    const authorization = request.headers.authorization;
    const bearer = /^bearer\s+(.+)$/i.exec(authorization ?? "")?.[1]?.trim();
    if (authorization && !bearer) return null;
    // Reelkit's own credentials say what they are by their prefix, a JWT by its shape; anything
    // else is a session.
    if (bearer?.startsWith(API_KEY_PREFIX)) {
      const key = await this.apiKeys.verify(bearer);
      // An "upload" key mints upload tokens and does nothing else, not even a read as its user.
      if (key?.apiKeyScope === "upload" && request.routeOptions.url !== UPLOAD_TOKENS_PATH) {
        this.refused.set(request, "api-key-scope");
        return null;
      }
      return key;
    }
    if (bearer?.startsWith(UPLOAD_TOKEN_PREFIX)) {
      const verified = await this.apiKeys.verifyUploadToken(bearer);
      if (verified === "expired") this.refused.set(request, "upload-token-expired");
      return typeof verified === "string" ? null : verified;
    }
    // No credential at all (most public reads): nothing to look up. Better Auth's session
    // lookup builds a whole endpoint context first, about a tenth of an anonymous read's CPU.
    if (!bearer && !request.headers.cookie?.includes(SESSION_COOKIE)) return null;
    const headers = toWebHeaders(request.headers);
    if (bearer && JWT_SHAPE.test(bearer)) return this.resolveJwt(bearer, headers);
    if (bearer) headers.delete("cookie");
    const session = await this.betterAuth.api
      .getSession({ headers, query: { disableRefresh: true } })
      .catch(async (err) => {
        await this.throwIfDatabaseDown(err);
        this.opts.logger?.warn({ err }, "session lookup failed");
        return null;
      });
    if (!session) return null;
    return {
      kind: "user",
      userId: session.user.id,
      isAdmin: (session.user as { role?: string }).role === "admin",
      via: bearer ? "bearer" : "cookie",
    };
  }
}
