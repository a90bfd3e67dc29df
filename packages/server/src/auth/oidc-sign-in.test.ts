import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUp, tusCreate } from "../../test/factories.js";
import {
  authorizeWithOidc,
  CookieJar,
  finishOidcSignIn,
  sessionUser,
  startOidcProvider,
  type TestOidcProvider,
} from "../../test/oidc-provider.js";
import { startTestApp, type TestApp } from "../../test/test-app.js";

/** The user rows and sessions of an IdP account, by its e-mail. */
async function sessionsOf(s: TestApp, email: string): Promise<number> {
  return s.prisma.session.count({ where: { user: { email } } });
}

describe("sign-in with an OpenID Connect issuer (a real oidc-provider)", () => {
  let idp: TestOidcProvider;
  let s: TestApp;
  beforeAll(async () => {
    idp = await startOidcProvider();
    s = await startTestApp({
      env: {
        ...idp.env,
        OIDC_NAME: "Example ID",
        GOOGLE_CLIENT_ID: "google-client.apps.example",
        GOOGLE_CLIENT_SECRET: "google-secret",
        REELKIT_ADMIN_EMAILS: "boss@idp.test",
        // Every sign-in start counts against the sign-in limit; this suite starts many.
        REELKIT_AUTH_RATE_LIMIT: "200/1m",
      },
    });
  }, 180_000);
  afterAll(async () => {
    await s?.close();
    await idp?.close();
  });

  it("lists the configured providers for the sign-in page", async () => {
    const res = await fetch(`${s.base}/api/auth/providers`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      emailAndPassword: true,
      providers: [
        { id: "google", name: "Google" },
        { id: "oidc", name: "Example ID" },
      ],
    });
  });

  it("signs in end to end (code + PKCE + state + nonce) into a session that works on the API", async () => {
    const { jar, authorizationUrl, callback } = await authorizeWithOidc(s.base, "alice");
    // The request Reelkit sent the browser with, from the issuer's discovery document.
    expect(authorizationUrl.origin).toBe(idp.issuer);
    const q = authorizationUrl.searchParams;
    expect(q.get("response_type")).toBe("code");
    expect(q.get("client_id")).toBe(idp.env.OIDC_CLIENT_ID);
    expect(q.get("redirect_uri")).toBe(`${s.base}/api/auth/callback/oidc`);
    expect(q.get("code_challenge_method")).toBe("S256");
    expect(q.get("code_challenge")).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(q.get("state")?.length).toBeGreaterThanOrEqual(32);
    expect(q.get("nonce")?.length).toBeGreaterThanOrEqual(32);
    expect(q.get("scope")?.split(" ")).toEqual(expect.arrayContaining(["openid", "email", "profile"]));
    // The provider's answer: a code for this state, from this issuer (RFC 9207).
    expect(callback.pathname).toBe("/api/auth/callback/oidc");
    expect(callback.searchParams.get("code")).toBeTruthy();
    expect(callback.searchParams.get("state")).toBe(q.get("state"));
    expect(callback.searchParams.get("iss")).toBe(idp.issuer);

    const done = await finishOidcSignIn(s.base, jar, callback);
    expect(done.status).toBe(302);
    expect(done.location?.toString()).toBe(`${s.base}/mine`);
    expect(done.sessionCookie).toMatch(/HttpOnly/i);
    expect(done.sessionCookie).toMatch(/SameSite=Lax/i);

    const user = await sessionUser(s.base, jar);
    // The first user of a fresh installation is an admin, however they signed in.
    expect(user).toMatchObject({ email: "alice@idp.test", name: "IdP user alice", role: "admin" });
    const accounts = await s.prisma.account.findMany({ where: { userId: user?.id } });
    expect(accounts.map((a) => [a.providerId, a.accountId])).toEqual([["oidc", "alice"]]);

    // The session authenticates an API call: an upload owned by the IdP user.
    const upload = await tusCreate(s.base, { auth: { cookie: jar.header(s.base), origin: s.base } });
    expect(upload.status).toBe(201);
    const id = upload.headers.get("reelkit-video-id");
    const video = (await (await fetch(`${s.base}/api/videos/${id}`)).json()) as { ownerId: string };
    expect(video.ownerId).toBe(user?.id);
  });

  it("links one identity to one user; REELKIT_ADMIN_EMAILS applies to IdP users too", async () => {
    const signIn = async (login: string) => {
      const { jar, callback } = await authorizeWithOidc(s.base, login);
      const done = await finishOidcSignIn(s.base, jar, callback);
      expect(done.sessionCookie).toBeDefined();
      return sessionUser(s.base, jar);
    };
    const first = await signIn("bob");
    const again = await signIn("bob");
    expect(again?.id).toBe(first?.id);
    expect(first?.role).toBe("user");
    expect(await s.prisma.user.count({ where: { email: "bob@idp.test" } })).toBe(1);
    expect(await s.prisma.account.count({ where: { providerId: "oidc", accountId: "bob" } })).toBe(1);
    expect(await sessionsOf(s, "bob@idp.test")).toBe(2);

    // A password account whose address nobody verified is not joined by an IdP identity with
    // the same e-mail (it may have been registered by someone else to wait for its owner).
    const grace = await signUp(s.base, { email: "grace@idp.test" });
    const { jar, callback } = await authorizeWithOidc(s.base, "grace");
    const refused = await finishOidcSignIn(s.base, jar, callback);
    expect(refused.location?.searchParams.get("error")).toBe("account_not_linked");
    // Back to the page the sign-in started from (the demo's), with the reason.
    expect(refused.location?.pathname).toBe("/sign-in");
    expect(refused.sessionCookie).toBeUndefined();
    expect(await s.prisma.account.count({ where: { userId: grace.id } })).toBe(1);

    const other = await signIn("carol");
    expect(other?.id).not.toBe(first?.id);
    expect((await signIn("boss"))?.role).toBe("admin");
  });

  it("refuses a callback with a wrong state, or with the right state in another browser", async () => {
    const { jar, callback } = await authorizeWithOidc(s.base, "dave");
    const wrong = new URL(callback);
    wrong.searchParams.set("state", "x".repeat(32));
    const refused = await finishOidcSignIn(s.base, jar, wrong);
    expect(refused.status).toBe(302);
    expect(refused.location?.searchParams.get("error")).toBe("state_mismatch");
    expect(refused.sessionCookie).toBeUndefined();

    // Login CSRF: the victim's browser handed someone else's callback (no state cookie of its own).
    const elsewhere = await finishOidcSignIn(s.base, new CookieJar(), callback);
    expect(elsewhere.location?.searchParams.get("error")).toBe("state_mismatch");
    expect(elsewhere.sessionCookie).toBeUndefined();
    expect(await s.prisma.user.count({ where: { email: "dave@idp.test" } })).toBe(0);

    // Neither refusal spent the sign-in: the browser that started it completes it.
    const done = await finishOidcSignIn(s.base, jar, callback);
    expect(done.location?.toString()).toBe(`${s.base}/mine`);
    expect((await sessionUser(s.base, jar))?.email).toBe("dave@idp.test");
  });

  it("refuses a replayed authorization code", async () => {
    const victim = await authorizeWithOidc(s.base, "erin");
    expect((await finishOidcSignIn(s.base, victim.jar, victim.callback)).sessionCookie).toBeDefined();
    expect(await sessionsOf(s, "erin@idp.test")).toBe(1);

    // The same callback again, from the same browser or another: its state is spent.
    for (const jar of [victim.jar, new CookieJar()]) {
      const replay = await finishOidcSignIn(s.base, jar, victim.callback);
      expect(replay.status).toBe(302);
      expect(replay.location?.searchParams.get("error")).toBe("state_mismatch");
      expect(replay.sessionCookie).toBeUndefined();
    }

    // The stolen code slipped into a sign-in of one's own (a valid state of that browser): the
    // provider refuses to exchange it. It is spent as well, but the provider checks first that it
    // is bound to the victim's PKCE verifier, which only the victim's sign-in state holds.
    const attacker = await authorizeWithOidc(s.base, "mallory");
    const injected = new URL(attacker.callback);
    injected.searchParams.set("code", victim.callback.searchParams.get("code") as string);
    const before = idp.events.length;
    const refused = await finishOidcSignIn(s.base, attacker.jar, injected);
    expect(refused.status).toBe(302);
    expect(refused.location?.searchParams.get("error")).toBe("invalid_code");
    expect(refused.location?.pathname).toBe("/sign-in");
    expect(refused.sessionCookie).toBeUndefined();
    expect(idp.events.slice(before)).toEqual([
      expect.objectContaining({
        type: "grant.error",
        error: "invalid_grant",
        detail: "code_verifier does not match code_challenge",
      }),
    ]);
    expect(await sessionsOf(s, "erin@idp.test")).toBe(1);
    expect(await s.prisma.user.count({ where: { email: "mallory@idp.test" } })).toBe(0);
  });

  it("refuses an expired ID token (an issuer whose clock is an hour behind)", async () => {
    await idp.setClockOffset(-3600);
    try {
      const { jar, callback } = await authorizeWithOidc(s.base, "frank");
      const refused = await finishOidcSignIn(s.base, jar, callback);
      expect(refused.status).toBe(302);
      expect(refused.location?.searchParams.get("error")).toBe("unable_to_get_user_info");
      expect(refused.location?.pathname).toBe("/sign-in");
      expect(refused.sessionCookie).toBeUndefined();
      expect(await sessionUser(s.base, jar)).toBeNull();
      expect(await s.prisma.user.count({ where: { email: "frank@idp.test" } })).toBe(0);
    } finally {
      await idp.setClockOffset(0);
    }
    // The same account signs in once the issuer's tokens are current again.
    const { jar, callback } = await authorizeWithOidc(s.base, "frank");
    expect((await finishOidcSignIn(s.base, jar, callback)).sessionCookie).toBeDefined();
  });

  it("sends the browser to Google with PKCE and state when Google is configured", async () => {
    const res = await fetch(`${s.base}/api/auth/sign-in/social`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: s.base },
      body: JSON.stringify({ provider: "google", callbackURL: "/mine" }),
    });
    expect(res.status).toBe(200);
    const url = new URL(((await res.json()) as { url: string }).url);
    expect(`${url.origin}${url.pathname}`).toBe("https://accounts.google.com/o/oauth2/v2/auth");
    expect(url.searchParams.get("client_id")).toBe("google-client.apps.example");
    expect(url.searchParams.get("redirect_uri")).toBe(`${s.base}/api/auth/callback/google`);
    expect(url.searchParams.get("code_challenge_method")).toBe("S256");
    expect(url.searchParams.get("state")).toBeTruthy();
    expect(url.searchParams.get("scope")?.split(" ")).toEqual(expect.arrayContaining(["openid", "email"]));
    expect(res.headers.getSetCookie().some((c) => c.startsWith("reelkit.state="))).toBe(true);
  });

  it("refuses a provider that is not configured, in the error shape", async () => {
    const res = await fetch(`${s.base}/api/auth/sign-in/social`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: s.base },
      body: JSON.stringify({ provider: "github", callbackURL: "/mine" }),
    });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect((await res.json()).error.code).toMatch(/^[A-Z_]+$/);
  });
});

describe("a server with no external provider", () => {
  let s: TestApp;
  beforeAll(async () => {
    s = await startTestApp();
  }, 180_000);
  afterAll(() => s?.close());

  it("lists e-mail + password only and refuses the OIDC provider", async () => {
    expect(await (await fetch(`${s.base}/api/auth/providers`)).json()).toEqual({
      emailAndPassword: true,
      providers: [],
    });
    const res = await fetch(`${s.base}/api/auth/sign-in/social`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: s.base },
      body: JSON.stringify({ provider: "oidc", callbackURL: "/mine" }),
    });
    expect(res.status).toBe(404);
    expect((await res.json()).error.code).toBe("PROVIDER_NOT_FOUND");
  });
});

describe("an issuer that is down when the server starts", () => {
  let idp: TestOidcProvider;
  let s: TestApp;
  beforeAll(async () => {
    idp = await startOidcProvider();
    await idp.setAvailable(false);
    s = await startTestApp({ env: { ...idp.env } });
  }, 180_000);
  afterAll(async () => {
    await s?.close();
    await idp?.close();
  });

  it("does not stop the server; sign-in with it works once it answers", async () => {
    const listed = await fetch(`${s.base}/api/auth/providers`);
    expect((await listed.json()).providers).toEqual([{ id: "oidc", name: "OpenID Connect" }]);
    const early = await fetch(`${s.base}/api/auth/sign-in/social`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: s.base },
      body: JSON.stringify({ provider: "oidc", callbackURL: `${s.base}/mine` }),
    });
    expect(early.status).toBe(404);
    expect((await early.json()).error.code).toBe("PROVIDER_NOT_FOUND");

    await idp.setAvailable(true);
    const { jar, callback } = await authorizeWithOidc(s.base, "late");
    expect((await finishOidcSignIn(s.base, jar, callback)).sessionCookie).toBeDefined();
    expect((await sessionUser(s.base, jar))?.email).toBe("late@idp.test");
  });
});
