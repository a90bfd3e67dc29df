import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type DemoServer, startDemoServer } from "../../apps/demo/test/real-server.js";
import { firstLink, type MailCatcher, startMailCatcher } from "../../packages/server/test/mail-catcher.js";
import { describeWith } from "../engines.js";
import { axeAudit, blocking } from "./axe.js";
import { artifactPath, chromiumMissing, launchChromium } from "./chromium.js";

// "Forgot password?" and e-mail verification as a visitor meets them in Chromium: the demo server
// mails through a real SMTP server (smtp-server on 127.0.0.1), the test opens the mailed link in
// the page, and every page on the way passes axe-core (no serious or critical violation).

const demoDir = fileURLToPath(new URL("../../apps/demo/dist/", import.meta.url));
const NEW_PASSWORD = "a lighthouse of my own";

let smtp: MailCatcher | null = null;
let server: DemoServer | null = null;
let browser: Browser | null = null;

async function expectAccessible(page: Page, where: string) {
  expect(blocking(await axeAudit(page)), where).toEqual([]);
}

describeWith("browser", chromiumMissing, "account recovery in Chromium", () => {
  beforeAll(async () => {
    smtp = await startMailCatcher();
    server = await startDemoServer({ env: { REELKIT_DEMO_DIR: demoDir, SMTP_URL: smtp.url } });
    browser = await launchChromium();
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await smtp?.close();
  });

  // axe-core is injected as a script: the pages' CSP is bypassed for it.
  const newPage = async () => {
    const context = await (browser as Browser).newContext({ viewport: { width: 1280, height: 800 }, bypassCSP: true });
    const page = await context.newPage();
    page.on("pageerror", (err) => console.error("page error:", err));
    return page;
  };

  it("resets a forgotten password through the mailed link, which then works no more", async () => {
    const { baseUrl, user } = server as DemoServer;
    const page = await newPage();
    try {
      await page.goto(`${baseUrl}/sign-in`);
      await page.getByLabel("Email").fill(user.email);
      await page.getByRole("link", { name: "Forgot password?" }).click();
      await page.getByRole("heading", { level: 1, name: "Reset your password" }).waitFor();
      // The address typed on the sign-in form comes along.
      await expect(page.getByLabel("Email").inputValue()).resolves.toBe(user.email);
      await expectAccessible(page, "forgot-password form");
      await page.getByRole("button", { name: "Send the link" }).click();
      await page.getByRole("status").getByText("a link to choose a new password is on its way").waitFor();
      await expectAccessible(page, "forgot-password sent");

      const mail = await (smtp as MailCatcher).waitFor(user.email, /Reset your Reelkit password/);
      const link = firstLink(mail);
      await page.goto(link);
      await page.getByRole("heading", { level: 1, name: "Choose a new password" }).waitFor();
      expect(new URL(page.url()).pathname).toBe("/reset-password");
      await expectAccessible(page, "reset-password form");
      await page.screenshot({ path: artifactPath("account-recovery", "reset-password-1280x800.png") });

      // Too short: the site's own message, nothing sent.
      await page.getByLabel("New password", { exact: true }).fill("short");
      await page.getByRole("button", { name: "Set the password" }).click();
      await page.getByRole("alert").getByText("The password is too short").waitFor();

      await page.getByLabel("New password", { exact: true }).fill(NEW_PASSWORD);
      await page.getByRole("button", { name: "Set the password" }).click();
      await page.getByText("Your password is changed").waitFor();
      await page.getByRole("link", { name: "Sign in", exact: true }).last().click();
      await page.getByRole("heading", { level: 1, name: "Sign in" }).waitFor();
      await page.getByLabel("Email").fill(user.email);
      await page.getByLabel("Password").fill(NEW_PASSWORD);
      await page.getByRole("button", { name: "Sign in", exact: true }).click();
      await page.getByRole("heading", { level: 1, name: "My videos" }).waitFor({ timeout: 30_000 });

      // The same link again: refused, with a way to ask for a new one.
      await page.goto(link);
      await page.getByRole("alert").getByText("This link has expired or was already used.").waitFor();
      await expectAccessible(page, "reset-password refused");
      await page.screenshot({ path: artifactPath("account-recovery", "reset-password-refused-1280x800.png") });
      await page.getByRole("link", { name: "Ask for a new link" }).click();
      await page.getByRole("heading", { level: 1, name: "Reset your password" }).waitFor();
    } finally {
      await page.context().close();
    }
  });

  it("asks a new account to verify its address until the mailed link is followed", async () => {
    const { baseUrl } = server as DemoServer;
    const page = await newPage();
    const email = "new-viewer@example.test";
    try {
      await page.goto(`${baseUrl}/sign-up`);
      await page.getByLabel("Name").fill("New Viewer");
      await page.getByLabel("Email").fill(email);
      await page.getByLabel("Password").fill("watching all day");
      await page.getByRole("button", { name: "Create account" }).click();
      await page.getByRole("heading", { level: 1, name: "My videos" }).waitFor({ timeout: 30_000 });
      const notice = page.getByRole("region", { name: "E-mail verification" });
      await notice.getByText(`we mailed a link to ${email}`).waitFor();
      await expectAccessible(page, "verification notice");
      const first = await (smtp as MailCatcher).waitFor(email, /Verify your e-mail address/);

      // "Send it again" mails a second link; either works.
      await notice.getByRole("button", { name: "Send it again" }).click();
      await notice.getByText(`A new link is on its way to ${email}.`).waitFor();
      await (smtp as MailCatcher).waitFor(email, /Verify your e-mail address/);

      await page.goto(firstLink(first));
      await page.getByRole("heading", { level: 1, name: "Your address is verified" }).waitFor();
      await expectAccessible(page, "verified landing");
      await page.screenshot({ path: artifactPath("account-recovery", "verified-1280x800.png") });
      await page.goto(`${baseUrl}/mine`);
      await page.getByRole("heading", { level: 1, name: "My videos" }).waitFor();
      await expect(notice.count()).resolves.toBe(0);

      // A broken link lands on the same page, saying so.
      await page.goto(
        `${baseUrl}/api/auth/verify-email?token=not-a-token&callbackURL=${encodeURIComponent(`${baseUrl}/verified`)}`,
      );
      await page.getByRole("heading", { level: 1, name: "The address is not verified" }).waitFor();
      await page.getByRole("alert").getByText("This link has expired or was already used.").waitFor();
      await expectAccessible(page, "verified landing, refused");
    } finally {
      await page.context().close();
    }
  });
});
