import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { ConfigError, loadConfig } from "@reelkit/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signIn, signUp, type TestUser, tusCreate, uploadAs } from "../../test/factories.js";
import { startTestApp, type TestApp } from "../../test/test-app.js";
import { resolveSecret } from "./secret.js";

type Server = TestApp;

const startServer = (env: Record<string, string> = {}) => startTestApp({ env });

async function stopServer(s: Server | undefined): Promise<void> {
  await s?.close();
}

const json = (body: unknown) => JSON.stringify(body);

describe("accounts: sign-up, sign-in, sessions", () => {
  let s: Server;
  let admin: TestUser;
  let alice: TestUser;
  beforeAll(async () => {
    s = await startServer({ REELKIT_ADMIN_EMAILS: "Boss@Example.test" });
    admin = await signUp(s.base);
    alice = await signUp(s.base, { email: "alice@example.test" });
  }, 180_000);
  afterAll(() => stopServer(s));

  it("makes the first user and REELKIT_ADMIN_EMAILS admins, everyone else a user", async () => {
    expect(admin.role).toBe("admin");
    expect(alice.role).toBe("user");
    const boss = await signUp(s.base, { email: "boss@example.test" });
    expect(boss.role).toBe("admin");
  });

  it("keeps the session in an httpOnly SameSite=Lax cookie, never in the body", async () => {
    const res = await fetch(`${s.base}/api/auth/sign-in/email`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: s.base },
      body: json({ email: alice.email, password: alice.password }),
    });
    expect(res.status).toBe(200);
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith("reelkit.session_token="));
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    expect(cookie).toMatch(/Path=\//);
    // Plain http here; behind https (a trusted proxy's X-Forwarded-Proto) the cookie is Secure as well.
    expect(cookie).not.toMatch(/Secure/i);
    const body = await res.json();
    expect(body.user).toMatchObject({ id: alice.id, email: alice.email });
    expect(JSON.stringify(body)).not.toContain(alice.password);
  });

  it("answers a wrong password and an unknown email alike, in the error shape", async () => {
    const attempt = (email: string) =>
      fetch(`${s.base}/api/auth/sign-in/email`, {
        method: "POST",
        headers: { "content-type": "application/json", origin: s.base },
        body: json({ email, password: "not the password" }),
      });
    const wrong = await attempt(alice.email);
    const unknown = await attempt("nobody@example.test");
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    const [a, b] = [await wrong.json(), await unknown.json()];
    expect(a).toEqual(b);
    expect(a.error.code).toBe("INVALID_EMAIL_OR_PASSWORD");
  });

  it("reports the session to its holder by cookie and by bearer token", async () => {
    for (const headers of [alice.headers, alice.bearer]) {
      const res = await fetch(`${s.base}/api/auth/get-session`, { headers });
      expect((await res.json()).user.id).toBe(alice.id);
    }
  });

  it("revokes the session on sign-out: its cookie and its token stop working", async () => {
    const session = await signIn(s.base, alice.email, alice.password);
    const id = await uploadAs(s.base, session.bearer);
    const out = await fetch(`${s.base}/api/auth/sign-out`, {
      method: "POST",
      headers: { ...session.headers, "content-type": "application/json" },
      body: "{}",
    });
    expect(out.status).toBe(200);
    for (const headers of [session.headers, session.bearer]) {
      const res = await fetch(`${s.base}/api/videos/${id}`, {
        method: "PATCH",
        headers: { ...headers, "content-type": "application/json" },
        body: json({ title: "after sign-out" }),
      });
      expect(res.status).toBe(401);
      expect((await res.json()).error.code).toBe("UNAUTHORIZED");
    }
    // Alice's other session is untouched.
    const still = await fetch(`${s.base}/api/videos/${id}`, {
      method: "PATCH",
      headers: { ...alice.bearer, "content-type": "application/json" },
      body: json({ title: "still signed in elsewhere" }),
    });
    expect(still.status).toBe(200);
  });

  it("refuses cookie-authenticated mutations from another origin or without one (CSRF)", async () => {
    const id = await uploadAs(s.base, alice.bearer);
    const patch = (headers: Record<string, string>) =>
      fetch(`${s.base}/api/videos/${id}`, {
        method: "PATCH",
        headers: { ...headers, "content-type": "application/json" },
        body: json({ title: "csrf" }),
      });
    for (const origin of ["https://evil.example", undefined]) {
      const headers: Record<string, string> = { cookie: alice.cookie };
      if (origin) headers.origin = origin;
      const res = await patch(headers);
      expect(res.status).toBe(403);
      expect((await res.json()).error.code).toBe("CSRF_REJECTED");
    }
    expect((await patch(alice.headers)).status).toBe(200);
    // A bearer token is not sent by browsers on their own: no origin needed.
    expect((await patch(alice.bearer)).status).toBe(200);
    // Creating an upload with the cookie is a mutation too.
    const upload = await tusCreate(s.base, { auth: { cookie: alice.cookie, origin: "https://evil.example" } });
    expect(upload.status).toBe(403);
  });

  it("ignores a forged or unknown bearer token", async () => {
    for (const token of ["nonsense", `${alice.token}x`, "a.b.c"]) {
      const res = await tusCreate(s.base, { auth: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(401);
    }
  });
});

describe("uploads and videos need the right user", () => {
  let s: Server;
  let admin: TestUser;
  let owner: TestUser;
  let other: TestUser;
  beforeAll(async () => {
    s = await startServer({ REELKIT_MAX_UNFINISHED_UPLOADS: "2" });
    admin = await signUp(s.base);
    owner = await signUp(s.base);
    other = await signUp(s.base);
  }, 180_000);
  afterAll(() => stopServer(s));

  it("creates an upload only for a signed-in user, owned by them", async () => {
    const anonymous = await tusCreate(s.base);
    expect(anonymous.status).toBe(401);
    expect((await anonymous.json()).error.code).toBe("UNAUTHORIZED");
    const id = await uploadAs(s.base, owner.bearer, { title: "Mine" });
    const video = await (await fetch(`${s.base}/api/videos/${id}`)).json();
    expect(video).toMatchObject({ ownerId: owner.id, title: "Mine" });
    // A client cannot pick the owner.
    const forged = await tusCreate(s.base, { auth: { ...other.bearer, "x-reelkit-internal-owner": owner.id } });
    const forgedId = forged.headers.get("reelkit-video-id") as string;
    expect((await (await fetch(`${s.base}/api/videos/${forgedId}`)).json()).ownerId).toBe(other.id);
  });

  it("lets only the upload's creator HEAD, PATCH or DELETE it", async () => {
    const created = await tusCreate(s.base, { auth: owner.bearer, length: 10 });
    expect(created.status).toBe(201);
    const url = new URL(created.headers.get("location") as string, s.base).toString();
    const tus = { "Tus-Resumable": "1.0.0" };
    const patch = (auth: Record<string, string>) =>
      fetch(url, {
        method: "PATCH",
        headers: { ...tus, ...auth, "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream" },
        body: "01234",
      });
    for (const auth of [{}, other.bearer, admin.bearer]) {
      const expected = Object.keys(auth).length === 0 ? 401 : 403;
      expect((await fetch(url, { method: "HEAD", headers: { ...tus, ...auth } })).status).toBe(expected);
      expect((await patch(auth)).status).toBe(expected);
      expect((await fetch(url, { method: "DELETE", headers: { ...tus, ...auth } })).status).toBe(expected);
    }
    expect(
      (await fetch(url, { method: "HEAD", headers: { ...tus, ...owner.bearer } })).headers.get("upload-offset"),
    ).toBe("0");
    expect((await patch(owner.bearer)).status).toBe(204);
    expect((await fetch(url, { method: "DELETE", headers: { ...tus, ...owner.bearer } })).status).toBe(204);
  });

  it("caps unfinished uploads per user", async () => {
    const user = await signUp(s.base);
    expect((await tusCreate(s.base, { auth: user.bearer, length: 100 })).status).toBe(201);
    expect((await tusCreate(s.base, { auth: user.bearer, length: 100 })).status).toBe(201);
    const third = await tusCreate(s.base, { auth: user.bearer, length: 100 });
    expect(third.status).toBe(429);
    expect((await third.json()).error.code).toBe("UPLOAD_LIMIT_REACHED");
    // A finished upload no longer counts.
    expect((await tusCreate(s.base, { auth: other.bearer, body: "done" })).status).toBe(201);
  });

  it("lets only the owner or an admin edit and delete a video", async () => {
    const id = await uploadAs(s.base, owner.bearer, { title: "Owned" });
    const patch = (auth: Record<string, string>, title: string) =>
      fetch(`${s.base}/api/videos/${id}`, {
        method: "PATCH",
        headers: { ...auth, "content-type": "application/json" },
        body: json({ title }),
      });
    expect((await patch({}, "anonymous")).status).toBe(401);
    const refused = await patch(other.bearer, "other");
    expect(refused.status).toBe(403);
    expect((await refused.json()).error.code).toBe("FORBIDDEN");
    expect((await fetch(`${s.base}/api/videos/${id}`, { method: "DELETE", headers: other.bearer })).status).toBe(403);
    expect((await patch(owner.bearer, "by owner")).status).toBe(200);
    expect((await patch(admin.bearer, "by admin")).status).toBe(200);
    expect((await fetch(`${s.base}/api/videos/${id}`)).status).toBe(200);
    expect((await fetch(`${s.base}/api/videos/${id}`, { method: "DELETE", headers: admin.bearer })).status).toBe(204);
  });

  it("lists the caller's own videos with mine=1, any status, and needs a user for it", async () => {
    const a = await uploadAs(s.base, other.bearer, { title: "Other's first" });
    const b = (await tusCreate(s.base, { auth: other.bearer, length: 100 })).headers.get("reelkit-video-id");
    const res = await fetch(`${s.base}/api/videos?mine=1`, { headers: other.bearer });
    const mine = await res.json();
    expect(res.status, JSON.stringify(mine)).toBe(200);
    const ids = mine.items.map((v: { id: string }) => v.id);
    expect(ids.slice(0, 2)).toEqual([b, a]);
    expect(mine.items.every((v: { ownerId: string }) => v.ownerId === other.id)).toBe(true);
    expect((await fetch(`${s.base}/api/videos?mine=1`)).status).toBe(401);
  });
});

describe("session expiry", () => {
  let s: Server;
  beforeAll(async () => {
    s = await startServer({ REELKIT_SESSION_TTL: "2s" });
  }, 180_000);
  afterAll(() => stopServer(s));

  it("ends a session when it expires", async () => {
    const user = await signUp(s.base);
    expect((await tusCreate(s.base, { auth: user.bearer })).status).toBe(201);
    await new Promise((r) => setTimeout(r, 2500));
    expect((await tusCreate(s.base, { auth: user.bearer })).status).toBe(401);
    const session = await (await fetch(`${s.base}/api/auth/get-session`, { headers: user.headers })).json();
    expect(session).toBeNull();
  });
});

// A server of their own: with a 2 s session, a slow machine saw sessions end mid-test (401).
describe("rate limits", () => {
  let s: Server;
  beforeAll(async () => {
    s = await startServer({ REELKIT_AUTH_RATE_LIMIT: "3/1m", REELKIT_UPLOAD_RATE_LIMIT: "2/1m" });
  }, 180_000);
  afterAll(() => stopServer(s));

  it("rate-limits upload creation per user with 429 RATE_LIMITED", async () => {
    const user = await signUp(s.base);
    const other = await signUp(s.base);
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 3; i++) {
      last = await tusCreate(s.base, { auth: user.bearer, body: "data" });
      statuses.push(last.status);
    }
    expect(statuses).toEqual([201, 201, 429]);
    expect((await (last as Response).json()).error.code).toBe("RATE_LIMITED");
    expect(Number((last as Response).headers.get("retry-after"))).toBeGreaterThan(0);
    // Another user has a budget of their own.
    expect((await tusCreate(s.base, { auth: other.bearer, body: "data" })).status).toBe(201);
  });

  it("rate-limits sign-in per client address with 429 RATE_LIMITED and Retry-After", async () => {
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 4; i++) {
      last = await fetch(`${s.base}/api/auth/sign-in/email`, {
        method: "POST",
        headers: { "content-type": "application/json", origin: s.base },
        body: json({ email: "nobody@example.test", password: "wrong password" }),
      });
      statuses.push(last.status);
    }
    expect(statuses).toEqual([401, 401, 401, 429]);
    const body = await (last as Response).json();
    expect(body.error.code).toBe("RATE_LIMITED");
    expect(Number((last as Response).headers.get("x-retry-after"))).toBeGreaterThan(0);
  });
});

describe("behind https", () => {
  let s: Server;
  beforeAll(async () => {
    s = await startServer({ REELKIT_BASE_URL: "https://video.example" });
  }, 180_000);
  afterAll(() => stopServer(s));

  it("marks the session cookie Secure and trusts only its own origin", async () => {
    const signUpFrom = (origin: string, email: string) =>
      fetch(`${s.base}/api/auth/sign-up/email`, {
        method: "POST",
        headers: { "content-type": "application/json", origin },
        body: json({ email, password: "correct horse battery staple", name: "Https" }),
      });
    const res = await signUpFrom("https://video.example", "https@example.test");
    expect(res.status).toBe(200);
    const cookie = res.headers.getSetCookie().find((c) => c.includes("session_token="));
    expect(cookie).toMatch(/; Secure/);
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
  });
});

describe("the secret", () => {
  it("is required in production", () => {
    expect(() => loadConfig({ NODE_ENV: "production" })).toThrow(ConfigError);
    expect(() => loadConfig({ NODE_ENV: "production" })).toThrow(/REELKIT_SECRET/);
    expect(loadConfig({ NODE_ENV: "production", REELKIT_SECRET: "x".repeat(32) }).secret).toBe("x".repeat(32));
    expect(() => loadConfig({ REELKIT_SECRET: "short" })).toThrow(/at least 32/);
  });

  it("is generated once into the data directory otherwise, and kept", async () => {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "reelkit-secret-"));
    try {
      const first = await resolveSecret({ secret: null, dataDir });
      expect(first.length).toBeGreaterThanOrEqual(32);
      expect(await resolveSecret({ secret: null, dataDir })).toBe(first);
      const stat = await fs.stat(path.join(dataDir, "secret"));
      expect(stat.mode & 0o077).toBe(0);
      expect(await resolveSecret({ secret: "given".repeat(8), dataDir })).toBe("given".repeat(8));
    } finally {
      await fs.rm(dataDir, { recursive: true, force: true });
    }
  });
});
