/**
 * Which origins `/api/auth` trusts: for the CSRF check of its mutations, for the callback URLs
 * it redirects browsers to, and behind which proxies X-Forwarded-* counts. Each attack a
 * reviewer made over HTTP against the default configuration is refused here; the legitimate
 * flows next to it still work.
 */
import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signIn, signUp, type TestUser } from "../../test/factories.js";
import { startTestApp, type TestApp } from "../../test/test-app.js";

const EVIL = "https://evil.example";
const GOOGLE = { GOOGLE_CLIENT_ID: "google-client.apps.example", GOOGLE_CLIENT_SECRET: "google-secret" };

function authPost(s: TestApp, path: string, headers: Record<string, string>, body: unknown = {}) {
  return fetch(`${s.base}/api/auth${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
    redirect: "manual",
  });
}

function authGet(s: TestApp, path: string, headers: Record<string, string> = {}) {
  return fetch(`${s.base}/api/auth${path}`, { headers, redirect: "manual" });
}

/**
 * A POST as curl sends it: no Origin, no Referer and none of the Sec-Fetch-* headers that
 * Node's fetch adds like a browser.
 */
function curlPost(s: TestApp, path: string, headers: Record<string, string>, body: unknown) {
  const data = JSON.stringify(body);
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
    const req = http.request(
      `${s.base}/api/auth${path}`,
      { method: "POST", headers: { "content-type": "application/json", ...headers } },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk) => {
          text += chunk;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      },
    );
    req.on("error", reject);
    req.end(data);
  });
}

async function expectRefused(res: Response, status: number, code: string): Promise<void> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  expect(res.headers.get("location")).toBeNull();
  expect(JSON.parse(text)).toEqual({ error: { code, message: expect.any(String) } });
}

/** Where a redirect goes, or null when the reply is no redirect. */
const redirectOrigin = (res: Response) => {
  const location = res.headers.get("location");
  return location === null ? null : new URL(location, "http://relative.invalid").origin;
};

/** The account-changing requests an attacker would forge with a victim's credentials. */
function mutations(user: TestUser): [string, unknown][] {
  return [
    ["/update-user", { name: "changed by another site" }],
    ["/change-password", { currentPassword: user.password, newPassword: "chosen by another site" }],
    ["/revoke-other-sessions", {}],
    ["/sign-out", {}],
  ];
}

/** The victim's account is as it was: same name, same password, the session alive. */
async function expectUntouched(s: TestApp, user: TestUser, name: string): Promise<void> {
  const session = await (await authGet(s, "/get-session", user.bearer)).json();
  expect(session?.user).toMatchObject({ id: user.id, name });
  await signIn(s.base, user.email, user.password);
}

describe("without REELKIT_BASE_URL: the request's own origin only", () => {
  let s: TestApp;
  let victim: TestUser;
  beforeAll(async () => {
    s = await startTestApp({ env: { ...GOOGLE, REELKIT_AUTH_RATE_LIMIT: "1000/1m" } });
    victim = await signUp(s.base, { name: "Victim" });
  }, 180_000);
  afterAll(() => s?.close());

  it("does not redirect e-mail verification or a password reset to a foreign callbackURL", async () => {
    const foreign = [`${EVIL}/x`, "//evil.example/x", "/\\evil.example/x", "http://evil.example"];
    for (const callbackURL of foreign) {
      const q = `callbackURL=${encodeURIComponent(callbackURL)}`;
      await expectRefused(await authGet(s, `/verify-email?token=abc&${q}`), 403, "INVALID_CALLBACK_URL");
      await expectRefused(await authGet(s, `/reset-password/abc?${q}`), 403, "INVALID_CALLBACK_URL");
    }
    // A path here is fine: Better Auth answers the bad token, on this server.
    const own = await authGet(s, `/reset-password/abc?callbackURL=${encodeURIComponent("/reset")}`);
    expect(own.status).toBe(302);
    const location = new URL(own.headers.get("location") as string, s.base);
    expect(location.origin).toBe(s.base);
    expect(location.pathname).toBe("/reset");
    expect(location.searchParams.get("error")).toBe("INVALID_TOKEN");
  });

  it("refuses sign-in and sign-up with a foreign callback URL in any field", async () => {
    const origin = { origin: s.base };
    const credentials = { email: victim.email, password: victim.password };
    for (const field of ["callbackURL", "redirectTo", "errorCallbackURL", "newUserCallbackURL"]) {
      const res = await authPost(s, "/sign-in/email", origin, { ...credentials, [field]: `${EVIL}/x` });
      await expectRefused(res, 403, "INVALID_CALLBACK_URL");
    }
    const social = await authPost(s, "/sign-in/social", origin, { provider: "google", callbackURL: `${EVIL}/x` });
    await expectRefused(social, 403, "INVALID_CALLBACK_URL");
    const signUpFrom = await authPost(
      s,
      "/sign-up/email",
      {},
      {
        email: "redirected@example.test",
        password: "correct horse battery staple",
        name: "Redirected",
        callbackURL: `${EVIL}/welcome`,
      },
    );
    await expectRefused(signUpFrom, 403, "INVALID_CALLBACK_URL");
    // The same sign-in with a path or this server's own URL goes through.
    for (const callbackURL of ["/mine", `${s.base}/mine`]) {
      expect((await authPost(s, "/sign-in/email", origin, { ...credentials, callbackURL })).status).toBe(200);
    }
  });

  it("refuses every account mutation from a foreign Origin or Referer, with a cookie or a bearer token", async () => {
    // A sibling port of the same host is same-site for cookies (SameSite=Lax does not stop it).
    const sibling = `http://127.0.0.1:${Number(new URL(s.base).port) + 1}`;
    const forged: Record<string, string>[] = [
      { cookie: victim.cookie, origin: EVIL },
      { cookie: victim.cookie, origin: sibling },
      { cookie: victim.cookie, referer: `${EVIL}/page` },
      { cookie: victim.cookie, origin: "null" },
      { ...victim.bearer, origin: EVIL },
    ];
    for (const headers of forged) {
      for (const [path, body] of mutations(victim)) {
        await expectRefused(await authPost(s, path, headers, body), 403, "CSRF_REJECTED");
      }
    }
    await expectUntouched(s, victim, "Victim");
  });

  it("ignores X-Forwarded-Host and -Proto: no proxy is trusted", async () => {
    const forwarded = { "x-forwarded-host": "evil.example", "x-forwarded-proto": "https" };
    // Claiming to be the origin the proxy headers name does not make it trusted.
    for (const [path, body] of mutations(victim)) {
      const res = await authPost(s, path, { ...victim.headers, ...forwarded, origin: EVIL }, body);
      await expectRefused(res, 403, "CSRF_REJECTED");
    }
    const callback = await authGet(s, "/callback/google?code=c&state=s", forwarded);
    expect(callback.status).toBe(302);
    expect(redirectOrigin(callback)).toBe(s.base);
    const start = await authPost(s, "/sign-in/social", { ...forwarded, origin: s.base }, { provider: "google" });
    expect(start.status).toBe(200);
    const { url } = (await start.json()) as { url: string };
    expect(new URL(url).searchParams.get("redirect_uri")).toBe(`${s.base}/api/auth/callback/google`);
    // Nor is the session cookie marked Secure on a plain-http socket's say-so.
    const signedIn = await authPost(
      s,
      "/sign-in/email",
      { ...forwarded, origin: s.base },
      {
        email: victim.email,
        password: victim.password,
      },
    );
    expect(signedIn.status).toBe(200);
    expect(signedIn.headers.getSetCookie().find((c) => c.includes("session_token="))).not.toMatch(/Secure/);
    await expectUntouched(s, victim, "Victim");
  });

  it("leaves Better Auth itself trusting no foreign origin (the routes' guard is a second line)", async () => {
    const direct = (path: string, init?: RequestInit) =>
      s.auth.betterAuth.handler(new Request(`${s.base}/api/auth${path}`, { ...init, redirect: "manual" }));
    const verify = await direct(`/verify-email?token=abc&callbackURL=${encodeURIComponent(`${EVIL}/x`)}`);
    expect(verify.status).toBe(403);
    const reset = await direct(`/reset-password/abc?callbackURL=${encodeURIComponent(`${EVIL}/x`)}`);
    expect(reset.status).toBe(403);
    const mutation = await direct("/update-user", {
      method: "POST",
      headers: { "content-type": "application/json", cookie: victim.cookie, origin: EVIL },
      body: JSON.stringify({ name: "changed by another site" }),
    });
    expect(mutation.status).toBe(403);
    await expectUntouched(s, victim, "Victim");
  });

  it("keeps the legitimate flows: same-origin browsers, and clients that send no Origin", async () => {
    // curl: sign-up, then a bearer mutation, with neither Origin nor Referer.
    const curl = await curlPost(
      s,
      "/sign-up/email",
      {},
      {
        email: "curl@example.test",
        password: "correct horse battery staple",
        name: "Curl",
      },
    );
    expect(curl.status, curl.body).toBe(200);
    const token = curl.headers["set-auth-token"] as string;
    const renamed = await curlPost(s, "/update-user", { authorization: `Bearer ${token}` }, { name: "Curl 2" });
    expect(renamed.status, renamed.body).toBe(200);
    // The browser on this very origin, by cookie.
    const user = await signUp(s.base, { name: "Browser" });
    const sameOrigin = await authPost(s, "/update-user", user.headers, { name: "Browser 2" });
    expect(sameOrigin.status).toBe(200);
    const referer = await authPost(
      s,
      "/update-user",
      { cookie: user.cookie, referer: `${s.base}/account` },
      {
        name: "Browser 3",
      },
    );
    expect(referer.status).toBe(200);
    expect((await authPost(s, "/sign-out", user.headers)).status).toBe(200);
  });
});

describe("with REELKIT_CORS_ORIGINS and REELKIT_TRUST_PROXY", () => {
  const PARTNER = "https://partner.example";
  let s: TestApp;
  beforeAll(async () => {
    s = await startTestApp({
      env: {
        ...GOOGLE,
        REELKIT_CORS_ORIGINS: `${PARTNER}, *`,
        REELKIT_TRUST_PROXY: "loopback",
        REELKIT_AUTH_RATE_LIMIT: "1000/1m",
      },
    });
  }, 180_000);
  afterAll(() => s?.close());

  const behindProxy = { "x-forwarded-host": "video.example", "x-forwarded-proto": "https" };

  it("takes its origin from a trusted proxy: callbacks there, Secure cookies, its Origin trusted", async () => {
    const res = await authPost(
      s,
      "/sign-up/email",
      { ...behindProxy, origin: "https://video.example" },
      {
        email: "proxied@example.test",
        password: "correct horse battery staple",
        name: "Proxied",
      },
    );
    expect(res.status).toBe(200);
    expect(res.headers.getSetCookie().find((c) => c.includes("session_token="))).toMatch(/; Secure/);
    const callback = await authGet(s, "/callback/google?code=c&state=s", behindProxy);
    expect(callback.status).toBe(302);
    expect(redirectOrigin(callback)).toBe("https://video.example");
    const start = await authPost(
      s,
      "/sign-in/social",
      { ...behindProxy, origin: "https://video.example" },
      {
        provider: "google",
        callbackURL: "https://video.example/mine",
      },
    );
    expect(start.status).toBe(200);
    // The origin the request reached directly is no longer this server's own.
    const direct = await authPost(s, "/sign-in/social", { ...behindProxy, origin: s.base }, { provider: "google" });
    await expectRefused(direct, 403, "CSRF_REJECTED");
  });

  it("trusts a REELKIT_CORS_ORIGINS origin, and never every origin for `*`", async () => {
    const user = await signUp(s.base);
    const partner = await authPost(s, "/update-user", { ...user.bearer, origin: PARTNER }, { name: "Partner" });
    expect(partner.status).toBe(200);
    const callback = await authPost(
      s,
      "/sign-in/email",
      { origin: PARTNER },
      {
        email: user.email,
        password: user.password,
        callbackURL: `${PARTNER}/signed-in`,
      },
    );
    expect(callback.status).toBe(200);
    await expectRefused(await authPost(s, "/update-user", { ...user.bearer, origin: EVIL }, {}), 403, "CSRF_REJECTED");
    await expectRefused(
      await authGet(s, `/verify-email?token=abc&callbackURL=${encodeURIComponent(`${EVIL}/x`)}`),
      403,
      "INVALID_CALLBACK_URL",
    );
  });
});

describe("with REELKIT_BASE_URL", () => {
  const BASE = "https://video.example";
  let s: TestApp;
  beforeAll(async () => {
    s = await startTestApp({ env: { ...GOOGLE, REELKIT_BASE_URL: BASE } });
  }, 180_000);
  afterAll(() => s?.close());

  it("trusts only that origin, marks the cookie Secure and ignores forwarded hosts", async () => {
    const signUpFrom = (origin: string, email: string) =>
      authPost(s, "/sign-up/email", { origin }, { email, password: "correct horse battery staple", name: "Https" });
    const res = await signUpFrom(BASE, "https@example.test");
    expect(res.status).toBe(200);
    const cookie = res.headers.getSetCookie().find((c) => c.includes("session_token="));
    expect(cookie).toMatch(/; Secure/);
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    const token = res.headers.get("set-auth-token") as string;
    await expectRefused(await signUpFrom(EVIL, "evil@example.test"), 403, "CSRF_REJECTED");
    const forged = await authPost(s, "/update-user", { authorization: `Bearer ${token}`, origin: EVIL }, { name: "x" });
    await expectRefused(forged, 403, "CSRF_REJECTED");
    await expectRefused(
      await authGet(s, `/verify-email?token=abc&callbackURL=${encodeURIComponent(`${EVIL}/x`)}`),
      403,
      "INVALID_CALLBACK_URL",
    );
    const own = await authGet(s, `/reset-password/abc?callbackURL=${encodeURIComponent(`${BASE}/reset`)}`);
    expect(own.status).toBe(302);
    expect(redirectOrigin(own)).toBe(BASE);
    const callback = await authGet(s, "/callback/google?code=c&state=s", { "x-forwarded-host": "evil.example" });
    expect(callback.status).toBe(302);
    expect(redirectOrigin(callback)).toBe(BASE);
  });
});
