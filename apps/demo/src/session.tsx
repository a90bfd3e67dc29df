import { useReelkitClient } from "@reelkit/react";
import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useState } from "react";

/** The signed-in user as Reelkit's `/api/auth` reports it. */
export interface SessionUser {
  id: string;
  name: string;
  email: string;
  role: string;
}

export interface Session {
  /** null: signed out; undefined: not known yet. */
  user: SessionUser | null | undefined;
  signIn(input: { email: string; password: string }): Promise<void>;
  signUp(input: { name: string; email: string; password: string }): Promise<void>;
  signOut(): Promise<void>;
}

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
    return () => {
      live = false;
    };
  }, [call]);

  const value = useMemo<Session>(
    () => ({
      user,
      async signIn(input) {
        const r = (await call("/sign-in/email", input)) as { user: SessionUser };
        setUser(r.user);
      },
      async signUp(input) {
        const r = (await call("/sign-up/email", input)) as { user: SessionUser };
        setUser(r.user);
      },
      async signOut() {
        await call("/sign-out", {});
        setUser(null);
      },
    }),
    [call, user],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error("useSession needs a <SessionProvider>");
  return session;
}
