import type { Config } from "@reelkit/core";
import type { BetterAuthPlugin } from "better-auth";
import { createAuthEndpoint } from "better-auth/api";
import { genericOAuth } from "better-auth/plugins/generic-oauth";
import { jwt } from "better-auth/plugins/jwt";

/** Better Auth's provider id of the configured OpenID Connect issuer (`/api/auth/callback/oidc`). */
export const OIDC_PROVIDER_ID = "oidc";

/** A way to sign in besides e-mail + password, as the sign-in page lists it. */
export interface SignInProvider {
  /** The `provider` of `POST /api/auth/sign-in/social`. */
  id: string;
  name: string;
}

type ProviderConfig = Pick<Config, "google" | "oidc">;

/** The external providers this server offers, in the order a sign-in page shows them. */
export function signInProviders(config: ProviderConfig): SignInProvider[] {
  const providers: SignInProvider[] = [];
  if (config.google) providers.push({ id: "google", name: "Google" });
  if (config.oidc) providers.push({ id: OIDC_PROVIDER_ID, name: config.oidc.name });
  return providers;
}

/** Better Auth's built-in Google provider (authorization code + PKCE + state) when configured. */
export function socialProviders(config: ProviderConfig) {
  if (!config.google) return {};
  return {
    google: {
      clientId: config.google.clientId,
      clientSecret: config.google.clientSecret,
      prompt: "select_account" as const,
    },
  };
}

/**
 * Any OpenID Connect issuer through Better Auth's generic OAuth plugin: endpoints and signing
 * keys from the issuer's discovery document, authorization code + PKCE (S256), state, and an
 * ID token that must verify against the issuer's JWKS (signature, `iss`, `aud`, `exp`, and the
 * nonce of this sign-in). Client authentication is HTTP Basic, the OIDC default every issuer
 * supports. With no issuer configured the plugin has no provider.
 */
export function oidcPlugin(config: ProviderConfig) {
  const oidc = config.oidc;
  return genericOAuth({
    config: oidc
      ? [
          {
            providerId: OIDC_PROVIDER_ID,
            name: oidc.name,
            discoveryUrl: `${oidc.issuer}/.well-known/openid-configuration`,
            clientId: oidc.clientId,
            clientSecret: oidc.clientSecret,
            authentication: "basic",
            scopes: ["openid", "email", "profile"],
            pkce: true,
            requireIdTokenVerification: true,
          },
        ]
      : [],
  });
}

/** The `iss` and `aud` of Reelkit's own JWTs: its public origin when configured. */
export function jwtIssuer(config: Pick<Config, "baseUrl">): string {
  return config.baseUrl ?? "reelkit";
}

/**
 * Short-lived JWTs for the API and SDK (Better Auth's jwt plugin): `GET /api/auth/token` signs
 * one for the caller's session (EdDSA, key pair kept in the `auth_jwks` table, private key
 * encrypted with REELKIT_SECRET); `GET /api/auth/jwks` publishes the public keys so anyone can
 * verify them. The token names its session (`sid`) so Reelkit can refuse it once that session
 * is signed out.
 */
export function jwtPlugin(config: Pick<Config, "baseUrl" | "jwtTtlSeconds">) {
  const issuer = jwtIssuer(config);
  return jwt({
    jwt: {
      issuer,
      audience: issuer,
      expirationTime: `${config.jwtTtlSeconds}s`,
      definePayload: ({ user, session }) => ({
        sid: session.id,
        email: user.email,
        name: user.name,
        role: (user as { role?: string }).role ?? "user",
      }),
    },
    // No JWT minted on every get-session (Reelkit resolves a session on every request).
    disableSettingJwtHeader: true,
  });
}

/** `GET /api/auth/providers`: what a sign-in page offers (e-mail + password, Google, the OIDC issuer). */
export function providersPlugin(config: ProviderConfig) {
  const providers = signInProviders(config);
  return {
    id: "reelkit-sign-in-providers",
    endpoints: {
      listSignInProviders: createAuthEndpoint("/providers", { method: "GET" }, async (ctx) =>
        ctx.json({ emailAndPassword: true, providers }),
      ),
    },
  } satisfies BetterAuthPlugin;
}
