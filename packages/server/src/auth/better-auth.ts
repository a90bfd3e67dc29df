import type { Config, Logger } from "@reelkit/core";
import type { AuthContext, BetterAuthPlugin } from "better-auth";
import { prismaAdapter } from "better-auth/adapters/prisma";
import { APIError } from "better-auth/api";
import { betterAuth } from "better-auth/minimal";
import { bearer } from "better-auth/plugins/bearer";
import type { ChannelDirectory } from "../channels/channel-directory.js";
import { HANDLE_RULE, normalizeHandle } from "../channels/handles.js";
import type { PrismaClient } from "../generated/prisma/client.js";
import { resetPasswordMail, verificationMail } from "../mail/account-mails.js";
import { type Mailer, sendLogged } from "../mail/mailer.js";
import { jwtPlugin, oidcPlugin, providersPlugin, socialProviders } from "./sign-in-providers.js";

/** Set by the auth routes from the socket address; any copy a client sends is dropped. */
export const CLIENT_IP_HEADER = "x-reelkit-client-ip";
export const AUTH_BASE_PATH = "/api/auth";
export const COOKIE_PREFIX = "reelkit";

export interface BetterAuthOptions {
  config: Pick<
    Config,
    | "baseUrl"
    | "trustProxy"
    | "corsOrigins"
    | "adminEmails"
    | "sessionTtlSeconds"
    | "jwtTtlSeconds"
    | "authRateLimit"
    | "google"
    | "oidc"
    | "requireEmailVerification"
    | "passwordResetTtlSeconds"
  >;
  prisma: PrismaClient;
  secret: string;
  logger?: Logger;
  /** Checks handles chosen at sign-up and derives one for sign-ups without (Google, OIDC). */
  channels: ChannelDirectory;
  /** Sends the password-reset and verification mails. */
  mailer: Mailer;
}

/** How long an e-mail verification link stays valid. */
const VERIFICATION_TTL_SECONDS = 24 * 3600;

/**
 * The new user's handle: the one the sign-up form chose (`handle` in its body), checked and
 * free, else one derived from the name or address. The unique index settles a race.
 */
async function handleForNewUser(
  channels: ChannelDirectory,
  user: { name?: unknown; email?: unknown; handle?: unknown },
): Promise<string> {
  const chosen = user.handle;
  if (chosen !== undefined && chosen !== null && chosen !== "") {
    const handle = typeof chosen === "string" ? normalizeHandle(chosen) : null;
    if (!handle) throw new APIError("BAD_REQUEST", { code: "INVALID_HANDLE", message: `A handle is ${HANDLE_RULE}` });
    if (!(await channels.isFree(handle))) {
      throw new APIError("CONFLICT", {
        code: "HANDLE_TAKEN",
        message: `The handle ${handle} is taken; choose another`,
      });
    }
    return handle;
  }
  const source = typeof user.name === "string" && user.name.trim() ? user.name : String(user.email ?? "");
  return channels.freeHandleFrom(source);
}

/**
 * Better Auth on Reelkit's own Prisma client: email + password (scrypt), database sessions in
 * an httpOnly SameSite=Lax cookie (Secure behind https), bearer session tokens, rate-limited
 * sign-in and sign-up; Google, any OpenID Connect issuer and short-lived JWTs when configured
 * (sign-in-providers.ts). Its tables are declared in schema.prisma and created by Reelkit's
 * migrations.
 */
export function createBetterAuth(opts: BetterAuthOptions) {
  const { config, prisma, logger, mailer } = opts;
  const adminEmails = new Set(config.adminEmails);
  const trustedOrigins = config.corsOrigins.filter((o) => o !== "*");
  const { max, windowSeconds } = config.authRateLimit;
  return betterAuth({
    appName: "Reelkit",
    basePath: AUTH_BASE_PATH,
    // The configured origin, else the origin each request came to (Host, or X-Forwarded-Host
    // behind a trusted proxy). Every allowed host pattern also becomes a trusted origin, `*` all
    // of them: trustedOriginsPlugin puts back the request's own origin alone.
    baseURL: config.baseUrl ?? { allowedHosts: ["*"], protocol: "auto" },
    secret: opts.secret,
    database: prismaAdapter(prisma, { provider: "postgresql" }),
    trustedOrigins,
    telemetry: { enabled: false },
    emailAndPassword: {
      enabled: true,
      minPasswordLength: 8,
      maxPasswordLength: 128,
      autoSignIn: true,
      // Off by default so that a fresh server (no mail server, mails in the admin's outbox)
      // lets everyone in; REELKIT_REQUIRE_EMAIL_VERIFICATION turns it on.
      requireEmailVerification: config.requireEmailVerification,
      // The link in the mail: /api/auth/reset-password/<token>, which sends the browser on to
      // the page that asked (its redirectTo) with the token; the token works once.
      sendResetPassword: ({ user, url }) => sendLogged(mailer, resetPasswordMail(user, url), logger),
      resetPasswordTokenExpiresIn: config.passwordResetTtlSeconds,
      // A new password ends every session, a stolen one included.
      revokeSessionsOnPasswordReset: true,
    },
    emailVerification: {
      sendVerificationEmail: ({ user, url }) => sendLogged(mailer, verificationMail(user, url), logger),
      sendOnSignUp: true,
      // When verification is required, a refused sign-in sends a fresh link.
      sendOnSignIn: config.requireEmailVerification,
      expiresIn: VERIFICATION_TTL_SECONDS,
    },
    // Google and the OIDC issuer (see sign-in-providers.ts); an identity (provider + subject) is
    // one account row of one user (a unique key in the schema).
    socialProviders: socialProviders(config),
    session: {
      expiresIn: config.sessionTtlSeconds,
      updateAge: Math.min(86_400, Math.floor(config.sessionTtlSeconds / 2)),
    },
    user: {
      additionalFields: {
        role: { type: "string", required: false, defaultValue: "user", input: false },
        // Chosen at sign-up (checked by the create hook below); changed through PATCH
        // /api/channels/me only, never through Better Auth's update-user.
        handle: { type: "string", required: false, input: true },
      },
    },
    databaseHooks: {
      user: {
        create: {
          // The first user of a fresh installation, and every listed address, is an admin.
          before: async (user) => {
            const first = (await prisma.user.count()) === 0;
            const listed = adminEmails.has(String(user.email).toLowerCase());
            const handle = await handleForNewUser(opts.channels, user);
            return { data: { ...user, handle, role: first || listed ? "admin" : "user" } };
          },
        },
        update: {
          before: async (data) => {
            if ("handle" in data && data.handle !== undefined) {
              throw new APIError("BAD_REQUEST", {
                code: "FIELD_NOT_ALLOWED",
                message: "A handle is changed through PATCH /api/channels/me",
              });
            }
            return { data };
          },
        },
      },
    },
    rateLimit: {
      enabled: true,
      storage: "database",
      window: 60,
      max: 600,
      customRules: {
        "/sign-in/*": { window: windowSeconds, max },
        "/sign-up/*": { window: windowSeconds, max },
      },
    },
    advanced: {
      cookiePrefix: COOKIE_PREFIX,
      // X-Forwarded-Host/-Proto only behind a trusted proxy (the auth routes hand Better Auth
      // Fastify's reading of them, never a client's copy).
      trustedProxyHeaders: config.trustProxy !== false,
      // Its origin and callback checks on everywhere: Better Auth turns them off by default when
      // it finds itself under test, which would leave the tests checking a different server.
      disableOriginCheck: false,
      ipAddress: { ipAddressHeaders: [CLIENT_IP_HEADER] },
      defaultCookieAttributes: { httpOnly: true, sameSite: "lax" },
    },
    logger: {
      log: (level, message, ...args) => {
        const log = logger?.child({ name: "better-auth" });
        if (!log) return;
        const fn = level === "error" ? log.error : level === "warn" ? log.warn : log.debug;
        fn.call(log, { args: args.length ? args : undefined }, message);
      },
    },
    plugins: [trustedOriginsPlugin(config), bearer(), jwtPlugin(config), oidcPlugin(config), providersPlugin(config)],
  });
}

/**
 * The origins Better Auth trusts for one request (its CSRF check, every callback URL): this
 * server's own (REELKIT_BASE_URL, else the origin of the URL the auth routes built from
 * Fastify's view of the request) and REELKIT_CORS_ORIGINS, never a pattern. It replaces what a
 * dynamic base URL derives from `allowedHosts: ["*"]` (`https://*`, `http://*`: every origin)
 * before any endpoint or middleware looks at them.
 */
function trustedOriginsPlugin(config: Pick<Config, "baseUrl" | "corsOrigins">) {
  const listed = config.corsOrigins.filter((o) => o !== "*");
  return {
    id: "reelkit-trusted-origins",
    onRequest: async (request: Request, ctx: AuthContext) => {
      ctx.trustedOrigins = [config.baseUrl ?? new URL(request.url).origin, ...listed];
    },
  } satisfies BetterAuthPlugin;
}

export type ReelkitBetterAuth = ReturnType<typeof createBetterAuth>;
