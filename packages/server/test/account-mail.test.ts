import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signIn, signUp, type TestUser } from "./factories.js";
import { firstLink, type MailCatcher, startMailCatcher } from "./mail-catcher.js";
import { startTestApp, type TestApp } from "./test-app.js";

// Password reset and e-mail verification end to end: Better Auth's hooks send through
// nodemailer to a real SMTP server on 127.0.0.1 (smtp-server), the test reads the mail and
// follows its link as a browser would; without SMTP_URL the mails land in the admin's outbox.

const NEW_PASSWORD = "a brand new password";

/** A POST as the site's own page sends it (its Origin). */
function post(base: string, path: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${base}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: base, ...headers },
    body: JSON.stringify(body),
  });
}

/** Follows a mailed link without following its redirect: the Location it sends the browser to. */
async function follow(link: string): Promise<URL> {
  const res = await fetch(link, { redirect: "manual" });
  expect(res.status, await res.clone().text()).toBe(302);
  return new URL(res.headers.get("location") ?? "", link);
}

async function session(base: string, user: TestUser) {
  const res = await fetch(`${base}/api/auth/get-session`, { headers: user.bearer });
  return (await res.json()) as { user: { emailVerified: boolean } } | null;
}

describe("account mails through SMTP", () => {
  let smtp: MailCatcher;
  let t: TestApp;

  beforeAll(async () => {
    smtp = await startMailCatcher();
    t = await startTestApp({ env: { SMTP_URL: smtp.url, REELKIT_MAIL_FROM: "Videos <no-reply@video.test>" } });
  }, 120_000);
  afterAll(async () => {
    await t?.close();
    await smtp?.close();
  });

  it("mails a verification link at sign-up; following it verifies the address", async () => {
    const res = await post(t.base, "/api/auth/sign-up/email", {
      email: "verify-me@example.test",
      password: "correct horse battery",
      name: "Verify Me",
      callbackURL: `${t.base}/verified`,
    });
    expect(res.status).toBe(200);
    const user = await signIn(t.base, "verify-me@example.test", "correct horse battery");
    expect((await session(t.base, user))?.user.emailVerified).toBe(false);

    const mail = await smtp.waitFor("verify-me@example.test", /Verify your e-mail address/);
    expect(mail.from).toBe("no-reply@video.test");
    expect(mail.text).toContain("Hello Verify Me,");
    const landing = await follow(firstLink(mail));
    expect(landing.href).toBe(`${t.base}/verified`);
    expect((await session(t.base, user))?.user.emailVerified).toBe(true);
  });

  it("sends a new verification link on request, and a tampered one is refused", async () => {
    const user = await signUp(t.base, { email: "again@example.test" });
    await smtp.waitFor(user.email, /Verify/);
    const res = await post(
      t.base,
      "/api/auth/send-verification-email",
      { email: user.email, callbackURL: `${t.base}/verified` },
      user.bearer,
    );
    expect(res.status).toBe(200);
    const link = firstLink(await smtp.waitFor(user.email, /Verify/));
    const tampered = link.replace(/token=([^&]+)/, (_, token: string) => `token=${token.slice(0, -4)}AAAA`);
    const refused = await follow(tampered);
    expect(refused.pathname).toBe("/verified");
    expect(refused.searchParams.get("error")).toBe("INVALID_TOKEN");
    expect((await session(t.base, user))?.user.emailVerified).toBe(false);
    await follow(link);
    expect((await session(t.base, user))?.user.emailVerified).toBe(true);
  });

  it("resets a password through the mailed link: once, and every session ends", async () => {
    const user = await signUp(t.base, { email: "forgetful@example.test", password: "the old password" });
    const res = await post(t.base, "/api/auth/request-password-reset", {
      email: user.email,
      redirectTo: `${t.base}/reset-password`,
    });
    expect(res.status).toBe(200);
    const mail = await smtp.waitFor(user.email, /Reset your Reelkit password/);
    // The link leads to the server, which sends the browser on to the page with the token.
    const landing = await follow(firstLink(mail));
    expect(`${landing.origin}${landing.pathname}`).toBe(`${t.base}/reset-password`);
    const token = landing.searchParams.get("token") ?? "";
    expect(token).not.toBe("");

    const reset = await post(t.base, "/api/auth/reset-password", { token, newPassword: NEW_PASSWORD });
    expect(reset.status, await reset.clone().text()).toBe(200);
    await expect(signIn(t.base, user.email, "the old password")).rejects.toThrow(/401/);
    await signIn(t.base, user.email, NEW_PASSWORD);
    expect(await session(t.base, user)).toBeNull();

    // Used once: the same token again, and the link itself, are refused with a stable code.
    const again = await post(t.base, "/api/auth/reset-password", { token, newPassword: "yet another password" });
    expect(again.status).toBe(400);
    expect(((await again.json()) as { error: { code: string } }).error.code).toBe("INVALID_TOKEN");
    const stale = await follow(firstLink(mail));
    expect(stale.searchParams.get("error")).toBe("INVALID_TOKEN");
  });

  it("answers a reset request for an unknown address the same, and mails nothing", async () => {
    const before = smtp.mails.length;
    const res = await post(t.base, "/api/auth/request-password-reset", {
      email: "nobody@example.test",
      redirectTo: `${t.base}/reset-password`,
    });
    expect(res.status).toBe(200);
    await new Promise((r) => setTimeout(r, 300));
    expect(smtp.mails.length).toBe(before);
  });

  it("refuses a reset link pointing off this server's origins", async () => {
    const res = await post(t.base, "/api/auth/request-password-reset", {
      email: "forgetful@example.test",
      redirectTo: "https://evil.example/steal",
    });
    expect(res.status).toBe(403);
  });

  it("refuses a too-short new password and a made-up token with stable codes", async () => {
    const short = await post(t.base, "/api/auth/reset-password", { token: "whatever", newPassword: "short" });
    expect(short.status).toBe(400);
    expect(((await short.json()) as { error: { code: string } }).error.code).toBe("PASSWORD_TOO_SHORT");
    const unknown = await post(t.base, "/api/auth/reset-password", { token: "made-up", newPassword: NEW_PASSWORD });
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe("INVALID_TOKEN");
  });
});

describe("an expired reset link", () => {
  let smtp: MailCatcher;
  let t: TestApp;

  beforeAll(async () => {
    smtp = await startMailCatcher();
    t = await startTestApp({ env: { SMTP_URL: smtp.url, REELKIT_PASSWORD_RESET_TTL: "1" } });
  }, 120_000);
  afterAll(async () => {
    await t?.close();
    await smtp?.close();
  });

  it("is refused with INVALID_TOKEN, and the password stays", async () => {
    const user = await signUp(t.base, { password: "the old password" });
    await post(t.base, "/api/auth/request-password-reset", {
      email: user.email,
      redirectTo: `${t.base}/reset-password`,
    });
    const link = firstLink(await smtp.waitFor(user.email, /Reset/));
    const token = new URL(link).pathname.split("/").pop() ?? "";
    await new Promise((r) => setTimeout(r, 1_500));
    expect((await follow(link)).searchParams.get("error")).toBe("INVALID_TOKEN");
    const res = await post(t.base, "/api/auth/reset-password", { token, newPassword: NEW_PASSWORD });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("INVALID_TOKEN");
    await signIn(t.base, user.email, "the old password");
  });
});

describe("required verification (REELKIT_REQUIRE_EMAIL_VERIFICATION)", () => {
  let smtp: MailCatcher;
  let t: TestApp;

  beforeAll(async () => {
    smtp = await startMailCatcher();
    t = await startTestApp({ env: { SMTP_URL: smtp.url, REELKIT_REQUIRE_EMAIL_VERIFICATION: "true" } });
  }, 120_000);
  afterAll(async () => {
    await t?.close();
    await smtp?.close();
  });

  it("refuses sign-in until the address is verified, and mails a fresh link on the attempt", async () => {
    const email = "strict@example.test";
    const res = await post(t.base, "/api/auth/sign-up/email", { email, password: "correct horse battery", name: "S" });
    expect(res.status).toBe(200);
    await smtp.waitFor(email, /Verify/);
    const refused = await post(t.base, "/api/auth/sign-in/email", { email, password: "correct horse battery" });
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("EMAIL_NOT_VERIFIED");
    const link = firstLink(await smtp.waitFor(email, /Verify/));
    await follow(link);
    await signIn(t.base, email, "correct horse battery");
  });
});

describe("account mails without SMTP_URL: the admin's outbox", () => {
  let t: TestApp;
  let admin: TestUser;

  beforeAll(async () => {
    t = await startTestApp();
    // The first user of a fresh installation is its admin.
    admin = await signUp(t.base, { email: "admin@example.test" });
  }, 120_000);
  afterAll(async () => t?.close());

  it("keeps each mail for an admin, newest first, links included, and nobody else reads it", async () => {
    const user = await signUp(t.base, { email: "outboxed@example.test" });
    await post(t.base, "/api/auth/request-password-reset", {
      email: user.email,
      redirectTo: `${t.base}/reset-password`,
    });

    const res = await fetch(`${t.base}/api/admin/mail`, { headers: admin.bearer });
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const outbox = (await res.json()) as { delivery: string; items: { to: string; subject: string; text: string }[] };
    expect(outbox.delivery).toBe("outbox");
    expect(outbox.items.map((m) => [m.to, m.subject])).toEqual([
      ["outboxed@example.test", "Reset your Reelkit password"],
      ["outboxed@example.test", "Verify your e-mail address for Reelkit"],
      ["admin@example.test", "Verify your e-mail address for Reelkit"],
    ]);
    // The link works as the mailed one would.
    const link = /https?:\/\/\S+/.exec(outbox.items[0]?.text ?? "")?.[0] ?? "";
    const landing = await follow(link);
    expect(landing.searchParams.get("token")).toBeTruthy();

    expect((await fetch(`${t.base}/api/admin/mail`, { headers: user.bearer })).status).toBe(403);
    const anonymous = await fetch(`${t.base}/api/admin/mail`);
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as { error: { code: string } }).error.code).toBe("UNAUTHORIZED");
  });
});
