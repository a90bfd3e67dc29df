import type { Config, Logger } from "@reelkit/core";
import { betterAuth } from "better-auth";
import { prismaAdapter } from "better-auth/adapters/prisma";
import { bearer } from "better-auth/plugins/bearer";
import type { PrismaClient } from "../generated/prisma/client.js";
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
  >;
  prisma: PrismaClient;
  secret: string;
  logger?: Logger;
}

/**
 * Better Auth on Reelkit's own Prisma client: email + password (scrypt), database sessions in
 * an httpOnly SameSite=Lax cookie (Secure behind https), bearer session tokens, rate-limited
 * sign-in and sign-up; Google, any OpenID Connect issuer and short-lived JWTs when configured
 * (sign-in-providers.ts). Its tables are declared in schema.prisma and created by Reelkit's
 * migrations.
 */
export function createBetterAuth(opts: BetterAuthOptions) {
  const { config, prisma, logger } = opts;
  const adminEmails = new Set(config.adminEmails);
  const trustedOrigins = config.corsOrigins.filter((o) => o !== "*");
  const { max, windowSeconds } = config.authRateLimit;
  return betterAuth({
    appName: "Reelkit",
    basePath: AUTH_BASE_PATH,
    // The configured origin, else the origin of each request (the URL the auth routes build from
    // Fastify's view of it): Better Auth then trusts that one origin and REELKIT_CORS_ORIGINS.
    // Not its dynamic `allowedHosts` form: every allowed host pattern becomes a trusted origin
    // too, so `*` would trust every origin for callbacks and the CSRF check.
    baseURL: config.baseUrl ?? undefined,
    secret: opts.secret,
    database: prismaAdapter(prisma, { provider: "postgresql" }),
    trustedOrigins,
    telemetry: { enabled: false },
    emailAndPassword: { enabled: true, minPasswordLength: 8, maxPasswordLength: 128, autoSignIn: true },
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
      },
    },
    databaseHooks: {
      user: {
        create: {
          // The first user of a fresh installation, and every listed address, is an admin.
          before: async (user) => {
            const first = (await prisma.user.count()) === 0;
            const listed = adminEmails.has(String(user.email).toLowerCase());
            return { data: { ...user, role: first || listed ? "admin" : "user" } };
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
      ipAddress: { ipAddressHeaders: [CLIENT_IP_HEADER] },
      defaultCookieAttributes: { httpOnly: true, sameSite: "lax" },
    },
    logger: {
      log: (level, message, ...args) => {
        const log = logger?.child({ name: "better-auth" });
        // Leaving the base URL to each request is deliberate here (see baseURL above).
        if (!log || message.includes("Base URL is not set")) return;
        const fn = level === "error" ? log.error : level === "warn" ? log.warn : log.debug;
        fn.call(log, { args: args.length ? args : undefined }, message);
      },
    },
    plugins: [bearer(), jwtPlugin(config), oidcPlugin(config), providersPlugin(config)],
  });
}

export type ReelkitBetterAuth = ReturnType<typeof createBetterAuth>;
