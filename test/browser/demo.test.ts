import { execFileSync } from "node:child_process";
import fs from "node:fs";
import fsp from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Video } from "@reelkit/sdk/contract";
import { resolveBinaries } from "@reelkit/transcoder";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { ServerProcess } from "../../packages/server/test/server-process.js";
import { describeWith } from "../engines.js";
import { artifactPath, chromiumMissing, launchChromium } from "./chromium.js";

// The demo site in a real Chromium against a real `npm start`: sign-up, upload through the upload
// page as that user, processing to READY, playback, a manual quality switch, search, sign-out and
// sign-in again with "My videos" from the server; all of it without a Content-Security-Policy violation.

const TITLE = "Harbour lighthouse at dawn";
const EMAIL = "e2e-tester@example.test";
const PASSWORD = "lighthouse keeper 42";

let server: ServerProcess | null = null;
let browser: Browser | null = null;
let page: Page;
let base = "";
let dataDir = "";
let clip = "";
let videoId = "";
/** Every Content-Security-Policy violation any page of the run reported. */
const violations: string[] = [];

/** Collects the context's CSP violations: `securitypolicyviolation` events and console reports. */
async function watchCsp(context: BrowserContext): Promise<void> {
  await context.exposeBinding("__reportCspViolation", ({ page: from }, report: string) => {
    violations.push(`${from.url()}: ${report}`);
  });
  await context.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => {
      const report = (window as unknown as { __reportCspViolation: (r: string) => void }).__reportCspViolation;
      report(`${e.effectiveDirective} blocked ${e.blockedURI || "inline"} at ${e.sourceFile}:${e.lineNumber}`);
    });
  });
  context.on("console", (msg) => {
    if (msg.type() === "error" && /Content Security Policy/i.test(msg.text())) {
      violations.push(`${msg.page()?.url() ?? "a worker"}: ${msg.text()}`);
    }
  });
}

async function getVideo(id: string): Promise<Video> {
  const res = await fetch(`${base}/api/videos/${id}`);
  expect(res.status).toBe(200);
  return (await res.json()) as Video;
}

describeWith("browser", chromiumMissing, "demo site in Chromium", () => {
  beforeAll(async () => {
    dataDir = await fsp.mkdtemp(path.join(os.tmpdir(), "reelkit-e2e-"));
    clip = path.join(dataDir, "harbour.mp4");
    const { ffmpeg } = resolveBinaries({ ffmpegPath: null, ffprobePath: null });
    // 480p source → a 480/360/180 ladder: three rungs to choose from.
    execFileSync(ffmpeg, [
      ...["-hide_banner", "-loglevel", "error", "-y"],
      ...["-f", "lavfi", "-i", "testsrc2=size=854x480:rate=30:duration=10"],
      ...["-f", "lavfi", "-i", "sine=frequency=440:duration=10"],
      ...["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", clip],
    ]);

    // Exactly what a user runs: `npm start` (builds anything stale, serves the demo at /).
    server = await ServerProcess.start({
      entry: "npm-start",
      env: { PORT: "0", REELKIT_DATA_DIR: path.join(dataDir, "data") },
      startTimeoutMs: 540_000,
    });
    base = server.base;

    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await watchCsp(context);
    page = await context.newPage();
    page.on("pageerror", (err) => console.error("page error:", err));
  });

  afterAll(async () => {
    await browser?.close();
    if (server) {
      fs.writeFileSync(artifactPath("e2e", "server.log"), server.recentLog());
      await Promise.race([server.stop(), new Promise((r) => setTimeout(r, 10_000))]);
      await server.destroy();
    }
    if (dataDir) await fsp.rm(dataDir, { recursive: true, force: true });
  });

  it("signs up, then uploads a clip through the upload page: progress to 100% and processing to READY", async () => {
    // The upload page needs an account: it sends a signed-out visitor to sign in, and on.
    await page.goto(`${base}/upload`);
    await page.getByRole("heading", { level: 1, name: "Sign in" }).waitFor({ timeout: 30_000 });
    await page.getByRole("link", { name: "Create an account" }).click();
    await page.getByLabel("Name").fill("E2E Tester");
    await page.getByLabel("Email").fill(EMAIL);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Create account" }).click();
    await page.getByRole("heading", { level: 1, name: "Upload a video" }).waitFor({ timeout: 30_000 });
    await page.getByRole("button", { name: "Sign out" }).waitFor();
    // The session is an httpOnly cookie: the page's script cannot read it.
    expect(await page.evaluate(() => document.cookie)).not.toContain("session_token");
    const cookies = await page.context().cookies();
    expect(cookies.find((c) => c.name === "reelkit.session_token")).toMatchObject({ httpOnly: true, sameSite: "Lax" });

    // Throttle the upload so progress renders more than once: 8 Mbit/s up.
    const cdp = await page.context().newCDPSession(page);
    await cdp.send("Network.emulateNetworkConditions", {
      offline: false,
      latency: 5,
      downloadThroughput: -1,
      uploadThroughput: 1_000_000,
    });
    // Record every upload percentage the page renders, however briefly.
    await page.evaluate(() => {
      const seen: number[] = [];
      (window as unknown as { __uploadSeen: number[] }).__uploadSeen = seen;
      new MutationObserver(() => {
        const bar = document.querySelector<HTMLProgressElement>('progress[aria-label="Upload progress"]');
        if (bar) seen.push(Number(bar.value));
      }).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
    });

    await page.getByLabel("Choose a video file").setInputFiles(clip);
    await page.getByLabel("Title").fill(TITLE);
    await page.getByLabel("Description").fill("Ten seconds of test pattern and a 440 Hz tone.");
    await page.getByRole("button", { name: "Upload", exact: true }).click();

    const watch = page.getByRole("link", { name: "Watch" });
    await watch.waitFor({ timeout: 60_000 });
    // Once every byte is on the server the upload bar shows 100% (it stays, full, while the
    // server processes): wait until the page has rendered it.
    await page.waitForFunction(
      () => (window as unknown as { __uploadSeen: number[] }).__uploadSeen.includes(100),
      null,
      {
        timeout: 60_000,
      },
    );
    await cdp.send("Network.emulateNetworkConditions", {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: -1,
    });
    const seen = await page.evaluate(() => (window as unknown as { __uploadSeen: number[] }).__uploadSeen);
    expect(seen.some((p) => p > 0 && p < 100)).toBe(true);
    expect(Math.max(...seen)).toBe(100);

    const href = await watch.getAttribute("href");
    videoId = href?.split("/").pop() ?? "";
    expect(videoId).not.toBe("");

    await page.getByText("Your video is ready.").waitFor({ timeout: 180_000 });
    await page.screenshot({ path: artifactPath("e2e", "upload.png"), fullPage: true });
    const video = await getVideo(videoId);
    expect(video.status).toBe("READY");
    expect(video.title).toBe(TITLE);
    expect(video.ownerId).not.toBeNull();
    expect(video.renditions.map((r) => r.height)).toEqual([480, 360, 180]);
  });

  it("plays the video on the watch page and switches quality from the menu", async () => {
    expect(videoId).not.toBe("");
    const video = await getVideo(videoId);
    await page.getByRole("link", { name: "Watch" }).click();
    await page.waitForURL(`**/watch/${videoId}`);
    await page.getByRole("heading", { level: 1, name: TITLE }).waitFor({ timeout: 30_000 });

    // Start playback with a real key press (a user gesture, so no autoplay policy applies).
    const player = page.getByRole("region", { name: "Video player" });
    await player.waitFor();
    await player.focus();
    await page.keyboard.press("k");
    await page.waitForFunction(() => (document.querySelector("video")?.currentTime ?? 0) > 1, null, {
      timeout: 30_000,
    });
    const state = await page.evaluate(() => {
      const v = document.querySelector("video") as HTMLVideoElement;
      return { error: v.error?.message ?? null, paused: v.paused };
    });
    expect(state).toEqual({ error: null, paused: false });
    await expect(page.getByRole("alert").count()).resolves.toBe(0);

    // The quality menu lists Auto and every rung of the ladder.
    await page.getByRole("button", { name: /quality/i }).click();
    const items = page.getByRole("menuitemradio");
    const names = (await items.allTextContents()).map((t) => t.replace(/[^\w]/g, ""));
    expect(names).toEqual(["Auto", ...video.renditions.map((r) => r.name)]);

    // Choosing the smallest rung makes the player fetch that rung's segments and show it as playing.
    const lowest = video.renditions.at(-1);
    if (!lowest) throw new Error("the video has no renditions");
    const fetched = page.waitForRequest(
      (req) => req.url().includes(`/hls/${lowest.name}/`) && req.url().endsWith(".m4s"),
      {
        timeout: 30_000,
      },
    );
    await items.filter({ hasText: lowest.name }).click();
    await fetched;
    await page.waitForFunction(
      (name) =>
        Array.from(document.querySelectorAll("button")).some(
          (b) =>
            /quality/i.test(b.getAttribute("aria-label") ?? b.textContent ?? "") &&
            (b.textContent ?? "").includes(name),
        ),
      lowest.name,
      { timeout: 30_000 },
    );
    const before = await page.evaluate(() => document.querySelector("video")?.currentTime ?? 0);
    await page.waitForFunction((t) => (document.querySelector("video")?.currentTime ?? 0) > t + 0.5, before, {
      timeout: 30_000,
    });
    await page.screenshot({ path: artifactPath("e2e", "watch.png") });
  });

  it("finds the video by a word of its title, with the query in the URL", async () => {
    await page.goto(`${base}/`);
    const search = page.getByRole("combobox", { name: "Search videos" });
    await search.fill("lighthouse");
    await search.press("Enter");
    await page.waitForURL(/\/search\?q=lighthouse/);
    await page
      .getByRole("link", { name: new RegExp(TITLE) })
      .first()
      .waitFor({ timeout: 30_000 });
    await page.screenshot({ path: artifactPath("e2e", "search.png"), fullPage: true });

    // Reloading the URL gives the same result: the query is state the URL carries.
    await page.reload();
    await page
      .getByRole("link", { name: new RegExp(TITLE) })
      .first()
      .waitFor({ timeout: 30_000 });

    // Typeahead: the title's first letters open the combobox's listbox; ↓ points at the
    // suggestion (the box keeps focus) and Enter searches for it.
    await page.goto(`${base}/`);
    const box = page.getByRole("combobox", { name: "Search videos" });
    await box.fill(TITLE.slice(0, 7).toLowerCase());
    const option = page.getByRole("option", { name: TITLE });
    await option.waitFor({ timeout: 15_000 });
    expect(await box.getAttribute("aria-expanded")).toBe("true");
    await box.press("ArrowDown");
    expect(await option.getAttribute("aria-selected")).toBe("true");
    expect(await box.getAttribute("aria-activedescendant")).toBe(await option.getAttribute("id"));
    expect(await page.evaluate(() => document.activeElement?.getAttribute("role"))).toBe("combobox");
    await box.press("Enter");
    await page.waitForURL((url) => url.pathname === "/search" && url.searchParams.get("q") === TITLE);
  });

  it("signs out, signs back in and lists the upload under “My videos” from the server", async () => {
    await page.goto(`${base}/mine`);
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("link", { name: "Sign in" }).waitFor();
    // Signed out, the session is gone on the server too: "My videos" asks to sign in.
    await page.goto(`${base}/mine`);
    await page.getByRole("heading", { level: 1, name: "Sign in" }).waitFor({ timeout: 30_000 });
    await page.getByLabel("Email").fill(EMAIL);
    await page.getByLabel("Password").fill("not my password");
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page
      .getByRole("alert")
      .filter({ hasText: /invalid email or password/i })
      .waitFor();
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.getByRole("heading", { level: 1, name: "My videos" }).waitFor({ timeout: 30_000 });
    await page.getByRole("listitem", { name: TITLE }).waitFor({ timeout: 30_000 });
    await page.screenshot({ path: artifactPath("e2e", "my-videos.png"), fullPage: true });
  });

  it("makes the video private: it still plays for its owner, a signed-out browser cannot play it", async () => {
    await page.goto(`${base}/mine`);
    const row = page.getByRole("listitem", { name: TITLE });
    await row.getByRole("button", { name: "Edit" }).click();
    await row.getByLabel("Visibility").selectOption("PRIVATE");
    await row.getByRole("button", { name: "Save" }).click();
    await row.getByText(/^Private · Status/).waitFor({ timeout: 30_000 });

    // The owner still plays it, through its signed media URLs.
    await page.goto(`${base}/watch/${videoId}`);
    await page.getByRole("heading", { level: 1, name: TITLE }).waitFor({ timeout: 30_000 });
    const player = page.getByRole("region", { name: "Video player" });
    await player.waitFor();
    await player.focus();
    await page.keyboard.press("k");
    await page.waitForFunction(() => (document.querySelector("video")?.currentTime ?? 0) > 1, null, {
      timeout: 30_000,
    });

    // A browser without the session: no such video, and its media are not there without a signature.
    const stranger = await (browser as Browser).newContext();
    await watchCsp(stranger);
    try {
      const other = await stranger.newPage();
      await other.goto(`${base}/watch/${videoId}`);
      await other.getByRole("heading", { level: 1, name: "Video not found" }).waitFor({ timeout: 30_000 });
      expect(await other.locator("video").count()).toBe(0);
      const master = await other.request.get(`${base}/media/videos/${videoId}/hls/master.m3u8`);
      expect(master.status()).toBe(404);
      await other.goto(`${base}/`);
      await other.getByRole("heading", { level: 1 }).first().waitFor();
      expect(await other.getByRole("link", { name: new RegExp(TITLE) }).count()).toBe(0);
      await other.screenshot({ path: artifactPath("e2e", "private-signed-out.png"), fullPage: true });
    } finally {
      await stranger.close();
    }
  });

  it("serves the pages under a same-origin Content-Security-Policy that nothing above violated", async () => {
    const res = await page.goto(`${base}/`);
    const policy = res?.headers()["content-security-policy"] ?? "";
    expect(policy).toMatch(/(?:^|; )default-src 'self'(?:;|$)/);
    expect(policy).toMatch(/(?:^|; )media-src 'self' blob:/);
    expect(policy).not.toMatch(/unsafe-inline|unsafe-eval/);
    await page.getByRole("heading", { level: 1 }).first().waitFor({ timeout: 30_000 });
    // The rest of the pages once more, then media files opened on their own (under their own policy).
    for (const url of [`/search?q=lighthouse`, `/upload`, `/mine`, `/no-such-page`, `/watch/${videoId}`]) {
      await page.goto(`${base}${url}`);
      await page.getByRole("heading", { level: 1 }).first().waitFor({ timeout: 30_000 });
    }
    await page.locator("video").waitFor({ timeout: 30_000 });
    const video = (await (await page.request.get(`${base}/api/videos/${videoId}`)).json()) as Video;
    // The poster and the storyboard sprite opened on their own, as the browser's image documents.
    for (const url of [video.posterUrl, video.storyboardUrl]) {
      if (!url) throw new Error(`${videoId} has no poster or storyboard`);
      const file = await page.goto(new URL(url, base).toString());
      expect(file?.status(), url).toBe(200);
      expect(file?.headers()["content-security-policy"], url).toMatch(/^default-src 'none';.* sandbox;/);
    }
    // Reports arrive asynchronously: give the last ones a moment.
    await page.waitForTimeout(500);
    expect(violations).toEqual([]);
  });
});
