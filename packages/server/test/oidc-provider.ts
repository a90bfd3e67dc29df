import { type ChildProcess, fork } from "node:child_process";
import path from "node:path";

/** The client Reelkit is registered as at the test provider. */
export const OIDC_TEST_CLIENT = { id: "reelkit-test", secret: "reelkit-test-client-secret-0123456789" };

export interface OidcProviderEvent {
  type: "grant.error" | "server_error";
  error: string;
  detail?: string;
}

export interface TestOidcProvider {
  issuer: string;
  /** The environment that points a Reelkit server at this issuer. */
  env: Record<string, string>;
  /** Refusals the provider reported (e.g. a token request with a spent or unbound code). */
  events: OidcProviderEvent[];
  /** Moves the provider's clock (seconds; negative: behind). */
  setClockOffset(seconds: number): Promise<void>;
  /** Down: the provider answers 503 to every request (discovery included) until it is up again. */
  setAvailable(up: boolean): Promise<void>;
  close(): Promise<void>;
}

/**
 * A real OpenID Provider (`oidc-provider`) in a child process on a free port, with Reelkit as a
 * confidential client (client_secret_basic, PKCE required). Its redirect URI is a loopback one
 * without a port, which the provider matches on any port (RFC 8252, section 7.3): the client is
 * registered before the Reelkit server under test has picked its port.
 */
export async function startOidcProvider(): Promise<TestOidcProvider> {
  const clients = [
    {
      client_id: OIDC_TEST_CLIENT.id,
      client_secret: OIDC_TEST_CLIENT.secret,
      application_type: "native",
      redirect_uris: ["http://127.0.0.1/api/auth/callback/oidc"],
      token_endpoint_auth_method: "client_secret_basic",
      grant_types: ["authorization_code"],
      response_types: ["code"],
    },
  ];
  const child: ChildProcess = fork(path.join(import.meta.dirname, "oidc-provider-process.ts"), [], {
    env: { ...process.env, OIDC_TEST_CLIENTS: JSON.stringify(clients) },
    execArgv: [],
    stdio: ["ignore", "ignore", "pipe", "ipc"],
  });
  let stderr = "";
  child.stderr?.on("data", (chunk) => {
    stderr = (stderr + String(chunk)).slice(-4000);
  });
  const events: OidcProviderEvent[] = [];
  child.on("message", (m: { type: string; event?: OidcProviderEvent }) => {
    if (m.type === "event" && m.event) events.push(m.event);
  });
  const issuer = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`OIDC provider did not start: ${stderr}`)), 30_000);
    child.on("message", (m: { type: string; issuer?: string }) => {
      if (m.type === "ready" && m.issuer) {
        clearTimeout(timer);
        resolve(m.issuer);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`OIDC provider exited (${code}): ${stderr}`));
    });
  });
  /** Sends the provider a message and waits for its acknowledgement. */
  const request = (message: object, ack: string) =>
    new Promise<void>((resolve) => {
      const done = (m: { type: string }) => {
        if (m.type !== ack) return;
        child.off("message", done);
        resolve();
      };
      child.on("message", done);
      child.send(message);
    });
  return {
    issuer,
    env: { OIDC_ISSUER: issuer, OIDC_CLIENT_ID: OIDC_TEST_CLIENT.id, OIDC_CLIENT_SECRET: OIDC_TEST_CLIENT.secret },
    events,
    setClockOffset: (offsetSeconds) => request({ type: "clock", offsetSeconds }, "clock-set"),
    setAvailable: (up) => request({ type: "availability", up }, "availability-set"),
    close: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    },
  };
}

/**
 * A browser's cookies, per origin, filled from `Set-Cookie` and sent back by hand (Node's fetch
 * keeps none). A cookie set empty or with Max-Age=0 or an Expires in 1970 is removed; other
 * expiry dates are not enforced (a provider with a moved clock sets them in the past).
 */
export class CookieJar {
  private readonly byOrigin = new Map<string, Map<string, string>>();

  store(url: string | URL, res: Response): void {
    const origin = new URL(url).origin;
    let jar = this.byOrigin.get(origin);
    if (!jar) {
      jar = new Map();
      this.byOrigin.set(origin, jar);
    }
    for (const cookie of res.headers.getSetCookie()) {
      const [pair = "", ...attributes] = cookie.split(";");
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const removed =
        value === "" || attributes.some((a) => /^\s*max-age=0\s*$/i.test(a) || /^\s*expires=.*1970/i.test(a));
      if (removed) jar.delete(name);
      else jar.set(name, value);
    }
  }

  header(url: string | URL): string {
    const jar = this.byOrigin.get(new URL(url).origin);
    return jar ? [...jar].map(([k, v]) => `${k}=${v}`).join("; ") : "";
  }
}

/** fetch without following redirects, carrying and keeping the jar's cookies. */
export async function browse(jar: CookieJar, url: string | URL, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  const cookie = jar.header(url);
  if (cookie) headers.set("cookie", cookie);
  const res = await fetch(url, { ...init, headers, redirect: "manual" });
  jar.store(url, res);
  return res;
}

export interface OidcAuthorization {
  jar: CookieJar;
  /** The provider's authorization endpoint with Reelkit's request (client, PKCE, state, nonce…). */
  authorizationUrl: URL;
  /** Where the provider sent the browser back: Reelkit's callback with `code`, `state`, `iss`. */
  callback: URL;
}

/**
 * A browser signing in to Reelkit at `base` with the OIDC issuer: starts the sign-in at
 * Reelkit (`POST /api/auth/sign-in/social`), follows the provider's redirects, fills in its
 * login form as `login` and accepts its consent page, and stops at the redirect back to
 * Reelkit's callback, which it does not follow (see `finishOidcSignIn`).
 */
export async function authorizeWithOidc(
  base: string,
  login: string,
  jar: CookieJar = new CookieJar(),
): Promise<OidcAuthorization> {
  const start = await browse(jar, `${base}/api/auth/sign-in/social`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: base },
    // Absolute URLs on Reelkit's own origin, as the demo sends them.
    body: JSON.stringify({ provider: "oidc", callbackURL: `${base}/mine`, errorCallbackURL: `${base}/sign-in` }),
  });
  if (start.status !== 200) throw new Error(`sign-in/social answered ${start.status}: ${await start.text()}`);
  const authorizationUrl = new URL(((await start.json()) as { url: string }).url);
  let url = authorizationUrl;
  let init: RequestInit = {};
  for (let hop = 0; hop < 20; hop++) {
    const res = await browse(jar, url, init);
    init = {};
    const location = res.headers.get("location");
    if (res.status >= 300 && res.status < 400 && location) {
      const next = new URL(location, url);
      if (next.origin === new URL(base).origin) return { jar, authorizationUrl, callback: next };
      url = next;
      continue;
    }
    const html = await res.text();
    const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
    const prompt = /name="prompt" value="(\w+)"/.exec(html)?.[1];
    if (res.status !== 200 || !action || !prompt) {
      throw new Error(`unexpected provider page ${res.status} at ${url}: ${html.slice(0, 500)}`);
    }
    const form = new URLSearchParams({ prompt });
    if (prompt === "login") {
      form.set("login", login);
      form.set("password", "any password");
    }
    url = new URL(action, url);
    init = { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: form.toString() };
  }
  throw new Error("too many redirects at the OIDC provider");
}

export interface CallbackResult {
  status: number;
  /** Where Reelkit sent the browser: the callbackURL on success, the error URL (`?error=`) else. */
  location: URL | null;
  /** The session cookie Reelkit set, if it signed the browser in. */
  sessionCookie: string | undefined;
}

/** The browser arriving at Reelkit's callback (`callback`, possibly tampered with). */
export async function finishOidcSignIn(base: string, jar: CookieJar, callback: URL): Promise<CallbackResult> {
  const res = await browse(jar, callback);
  const location = res.headers.get("location");
  const sessionCookie = res.headers
    .getSetCookie()
    .find((c) => c.startsWith("reelkit.session_token=") && !/max-age=0/i.test(c));
  return { status: res.status, location: location ? new URL(location, base) : null, sessionCookie };
}

/** The user Reelkit's session (the jar's cookie) belongs to, or null. */
export async function sessionUser(
  base: string,
  jar: CookieJar,
): Promise<{ id: string; email: string; name: string; role: string } | null> {
  const res = await browse(jar, `${base}/api/auth/get-session`);
  const body = (await res.json()) as { user?: { id: string; email: string; name: string; role: string } } | null;
  return body?.user ?? null;
}
