import { useReelkitClient } from "@reelkit/react";
import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useState } from "react";
import { leavePage } from "./leave-page.js";

/** The signed-in user as Reelkit's `/api/auth` reports it. */
export interface SessionUser {
  id: string;
  name: string;
  email: string;
  role: string;
  /** The user's channel: `/c/<handle>`. */
  handle?: string;
  /** Whether the address was confirmed through the link mailed at sign-up. */
  emailVerified?: boolean;
}

/** An identity provider the server offers (Google, an OpenID Connect issuer). */
export interface SignInProvider {
  id: string;
  name: string;
}

export interface Session {
  /** null: signed out; undefined: not known yet. */
  user: SessionUser | null | undefined;
  /** The identity providers the server offers besides e-mail + password. */
  providers: SignInProvider[];
  signIn(input: { email: string; password: string }): Promise<void>;
  /** Leaves for the provider's sign-in page; the server brings the browser back to `next`. */
  signInWith(provider: string, next: string): Promise<void>;
  signUp(input: { name: string; email: string; password: string; handle?: string }): Promise<void>;
  signOut(): Promise<void>;
  /** Mails a reset link for the address (the answer is the same whether it has an account). */
  requestPasswordReset(email: string): Promise<void>;
  /** Sets a new password with the token from the reset link (400 INVALID_TOKEN: expired or used). */
  resetPassword(input: { token: string; newPassword: string }): Promise<void>;
  /** Mails the signed-in user a new verification link. */
  sendVerificationEmail(): Promise<void>;
}

/**
 * Where the mailed links bring the browser back to: paths, which the server resolves against its
 * own origin (the site is served by the server it talks to).
 */
export const RESET_PASSWORD_PATH = "/reset-password";
export const VERIFIED_PATH = "/verified";

const SessionContext = createContext<Session | null>(null);

/** An `/api/auth` refusal, with the server's own message (generic for a failed sign-in). */
export class AuthError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = "AuthError";
  }
}

/**
 * The demo's account state. The server keeps the session in an httpOnly cookie (same origin:
 * every request carries it); the client's token getter, when it has one, is sent as well.
 */
export function SessionProvider({ children }: { children: ReactNode }) {
  const client = useReelkitClient();
  const [user, setUser] = useState<SessionUser | null | undefined>(undefined);
  const [providers, setProviders] = useState<SignInProvider[]>([]);

  const call = useCallback(
    async (path: string, body?: unknown): Promise<unknown> => {
      const headers: Record<string, string> = { accept: "application/json", ...(await client.authHeaders()) };
      if (body !== undefined) headers["content-type"] = "application/json";
      const res = await client.fetch(client.url(`/api/auth${path}`), {
        method: body === undefined ? "GET" : "POST",
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: "include",
      });
      const text = await res.text();
      const json: unknown = text ? JSON.parse(text) : null;
      if (!res.ok) {
        const error = (json as { error?: { code?: string; message?: string } } | null)?.error;
        throw new AuthError(error?.message ?? `HTTP ${res.status}`, error?.code ?? "HTTP_ERROR");
      }
      return json;
    },
    [client],
  );

  useEffect(() => {
    let live = true;
    call("/get-session").then(
      (s) => live && setUser((s as { user?: SessionUser } | null)?.user ?? null),
      () => live && setUser(null),
    );
    call("/providers").then(
      (r) => live && setProviders((r as { providers?: SignInProvider[] } | null)?.providers ?? []),
      () => live && setProviders([]),
    );
    return () => {
      live = false;
    };
  }, [call]);

  const value = useMemo<Session>(
    () => ({
      user,
      providers,
      async signIn(input) {
        const r = (await call("/sign-in/email", input)) as { user: SessionUser };
        setUser(r.user);
      },
      async signInWith(provider, next) {
        // Absolute URLs on this page's origin (the server accepts its own and its CORS origins).
        const here = (path: string) => new URL(path, window.location.origin).toString();
        const r = (await call("/sign-in/social", {
          provider,
          callbackURL: here(next),
          errorCallbackURL: here(`/sign-in?next=${encodeURIComponent(next)}`),
        })) as { url: string };
        leavePage.to(r.url);
      },
      async signUp(input) {
        const r = (await call("/sign-up/email", { ...input, callbackURL: VERIFIED_PATH })) as {
          user: SessionUser;
        };
        setUser(r.user);
      },
      async requestPasswordReset(email) {
        await call("/request-password-reset", { email, redirectTo: RESET_PASSWORD_PATH });
      },
      async resetPassword(input) {
        await call("/reset-password", input);
      },
      async sendVerificationEmail() {
        if (!user) throw new AuthError("Sign in first", "UNAUTHORIZED");
        await call("/send-verification-email", { email: user.email, callbackURL: VERIFIED_PATH });
      },
      async signOut() {
        await call("/sign-out", {});
        setUser(null);
      },
    }),
    [call, user, providers],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error("useSession needs a <SessionProvider>");
  return session;
}
