import { spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser, BrowserContext, ConsoleMessage, Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeWith } from "../engines.js";
import { artifactPath as artifact, chromiumMissing, launchChromium } from "./chromium.js";

/** test-artifacts/storybook/<name> (gitignored; CI keeps it as evidence). */
const artifactPath = (name: string) => artifact("storybook", name);

// The built Storybook (storybook-static) in a real Chromium: every story in index.json renders
// without page or console errors, and each state shows what it should — including the real HLS
// sample playing with its ladder in the quality menu.
//
// storybook-static is rebuilt here (`npm run build-storybook`, ~20 s) when it is missing or older
// than its inputs, so a local run never tests stale stories; CI builds it first and reuses it.

const root = fileURLToPath(new URL("../../", import.meta.url));

const staticDir = path.join(root, "storybook-static");
const indexFile = path.join(staticDir, "index.json");
const INPUTS = [".storybook", "packages/react/src", "packages/sdk/src", "scripts/storybook-sample.ts"];

function newestMtime(p: string): number {
  const s = fs.statSync(p, { throwIfNoEntry: false });
  if (!s) return 0;
  if (!s.isDirectory()) return s.mtimeMs;
  let newest = s.mtimeMs;
  for (const e of fs.readdirSync(p)) newest = Math.max(newest, newestMtime(path.join(p, e)));
  return newest;
}

/** Why storybook-static must be rebuilt, or null when it is current. */
function staleReason(): string | null {
  if (!fs.existsSync(indexFile)) return "storybook-static/index.json is missing";
  if (!fs.existsSync(path.join(staticDir, "sample/hls/master.m3u8"))) return "the HLS sample is missing";
  const built = fs.statSync(indexFile).mtimeMs;
  const newer = INPUTS.find((p) => newestMtime(path.join(root, p)) > built);
  return newer ? `${newer} changed after the last build` : null;
}

async function buildStorybook(reason: string): Promise<void> {
  const logFile = artifactPath("build.log");
  const log = fs.openSync(logFile, "w");
  const started = Date.now();
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn("npm", ["run", "build-storybook"], { cwd: root, stdio: ["ignore", log, log] });
    child.on("error", reject);
    child.on("close", resolve);
  });
  fs.closeSync(log);
  if (code !== 0) throw new Error(`npm run build-storybook failed (${code}); see ${path.relative(root, logFile)}`);
  console.log(`storybook: rebuilt because ${reason} (${Date.now() - started} ms)`);
}

const MIME: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript",
  ".css": "text/css",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".woff2": "font/woff2",
  ".m3u8": "application/vnd.apple.mpegurl",
  ".m4s": "video/iso.segment",
  ".mp4": "video/mp4",
  ".vtt": "text/vtt",
};

/** A plain static file server over storybook-static, as any web host would serve it. */
function serveStatic(dir: string): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const urlPath = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    const file = path.join(dir, path.normalize(urlPath.endsWith("/") ? `${urlPath}index.html` : urlPath));
    if (!file.startsWith(dir) || !fs.statSync(file, { throwIfNoEntry: false })?.isFile()) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found");
      return;
    }
    res.writeHead(200, { "content-type": MIME[path.extname(file)] ?? "application/octet-stream" });
    fs.createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

interface StoryEntry {
  id: string;
  title: string;
  name: string;
  type: "story" | "docs";
}

/** Heights of the sample's rungs, read from the master playlist Storybook serves (e.g. ["360p", "180p"]). */
function sampleRungs(): string[] {
  const master = fs.readFileSync(path.join(staticDir, "sample/hls/master.m3u8"), "utf8");
  return [...master.matchAll(/RESOLUTION=\d+x(\d+)/g)].map((m) => `${m[1]}p`);
}

async function currentTime(page: Page): Promise<number> {
  return page.locator("video").evaluate((v: HTMLVideoElement) => v.currentTime);
}

async function expectPlaying(page: Page): Promise<void> {
  await expect.poll(() => currentTime(page), { timeout: 20_000 }).toBeGreaterThan(1);
  const t = await currentTime(page);
  await expect.poll(() => currentTime(page), { timeout: 10_000 }).toBeGreaterThan(t + 0.5);
  expect(await page.getByRole("alert").count()).toBe(0);
}

async function text(page: Page, role: "alert" | "status"): Promise<string> {
  const el = page.getByRole(role).first();
  await el.waitFor({ timeout: 15_000 });
  return (await el.textContent()) ?? "";
}

const clip = { name: "clip.mp4", mimeType: "video/mp4", buffer: Buffer.alloc(1024) };

/** State-specific checks, by story id. Every story also gets the generic render/error checks. */
const checks: Record<string, (page: Page) => Promise<void>> = {
  "components-uploader--idle": async (page) => {
    await expect.poll(() => page.getByText("Drop a video here or choose a file").count()).toBe(1);
    expect(await page.getByRole("button", { name: "Upload" }).isDisabled()).toBe(true);
    expect(await page.locator(".rk-dropzone--dragging").count()).toBe(0);
  },
  "components-uploader--file-chosen": async (page) => {
    expect(await page.getByText("holiday.mp4").count()).toBe(1);
    expect(await page.getByLabel("Title").inputValue()).toBe("holiday");
    expect(await page.getByRole("button", { name: "Upload" }).isEnabled()).toBe(true);
  },
  "components-uploader--dragging": async (page) => {
    expect(await page.locator(".rk-dropzone.rk-dropzone--dragging").count()).toBe(1);
  },
  "components-uploader--uploading": async (page) => {
    expect(await page.getByLabel("Upload progress").getAttribute("value")).toBe("42");
    expect(await page.locator(".rk-upload-stats").textContent()).toBe("42% · 2.5 MB/s · ETA 11s");
    expect(await page.getByRole("button", { name: "Pause" }).count()).toBe(1);
    expect(await page.getByRole("button", { name: "Cancel" }).count()).toBe(1);
  },
  "components-uploader--paused": async (page) => {
    // Paused is said as such, without a speed or an ETA that no longer mean anything.
    expect(await page.locator(".rk-upload-stats").textContent()).toBe("Paused · 63%");
    expect(await page.getByRole("button", { name: "Resume" }).count()).toBe(1);
  },
  "components-uploader--refused-too-large": async (page) => {
    expect(await text(page, "alert")).toContain("Upload failed: This file is larger than this site accepts.");
    // Retrying the same file cannot help.
    expect(await page.getByRole("button", { name: "Retry" }).count()).toBe(0);
    expect(await page.getByRole("button", { name: "Cancel" }).count()).toBe(1);
  },
  "components-uploader--file-refused": async (page) => {
    expect(await text(page, "alert")).toBe("holiday.mov is 3.2 GB; the largest file accepted is 2.0 GB.");
  },
  "components-uploader--processing-failed": async (page) => {
    expect(await text(page, "alert")).toContain("Uploaded, but the video could not be processed: No video stream");
    expect(await page.getByRole("button", { name: "Retry" }).count()).toBe(0);
    expect(await page.getByRole("button", { name: "Upload another" }).count()).toBe(1);
  },
  "components-uploader--processing-more-qualities": async (page) => {
    expect(await page.getByText("Playable — more qualities coming… 64%").count()).toBe(1);
  },
  "components-uploader--upload-error": async (page) => {
    expect(await text(page, "alert")).toContain("Upload failed: The connection to the server was lost");
    expect(await page.getByRole("button", { name: "Retry" }).count()).toBe(1);
  },
  "components-uploader--processing": async (page) => {
    expect(await page.getByLabel("Processing progress").getAttribute("value")).toBe("57");
    expect(await page.getByText("Processing… 57%").count()).toBe(1);
  },
  "components-uploader--done": async (page) => {
    expect(await text(page, "status")).toBe("Your video is ready.");
  },
  "components-uploader--live": async (page) => {
    const dataTransfer = await page.evaluateHandle(() => new DataTransfer());
    await page.dispatchEvent("[data-testid=rk-dropzone]", "dragover", { dataTransfer });
    expect(await page.locator(".rk-dropzone--dragging").count()).toBe(1);
    await page.dispatchEvent("[data-testid=rk-dropzone]", "dragleave", { dataTransfer });
    expect(await page.locator(".rk-dropzone--dragging").count()).toBe(0);

    await page.getByLabel("Choose a video file").setInputFiles(clip);
    expect(await page.getByLabel("Title").inputValue()).toBe("clip");
    await page.getByRole("button", { name: "Upload" }).click();
    const bar = page.getByLabel("Upload progress");
    await expect.poll(async () => Number(await bar.getAttribute("value")), { timeout: 5_000 }).toBeGreaterThan(0);
    expect(await page.locator(".rk-upload-stats").textContent()).toMatch(/^\d+% · 4\.0 MB\/s · ETA \d+s$/);
    await page.getByRole("button", { name: "Pause" }).click();
    const pausedAt = await bar.getAttribute("value");
    await page.waitForTimeout(400);
    expect(await bar.getAttribute("value")).toBe(pausedAt);
    await page.getByRole("button", { name: "Resume" }).click();
    await page.getByText(/Processing… \d+%/).waitFor({ timeout: 10_000 });
    expect(await text(page, "status")).toBe("Your video is ready.");
  },
  "components-uploader--with-pickers": async (page) => {
    expect(await page.getByLabel("Visibility").inputValue()).toBe("PRIVATE");
    expect(await page.getByLabel("Tags").inputValue()).toBe("sea, summer");
  },
  "components-uploader-queue--states": async (page) => {
    const stats = async (name: string) =>
      (await page.locator("li", { hasText: name }).locator(".rk-upload-stats").textContent()) ?? "";
    expect(await stats("beach.mp4")).toBe("40% · 2.0 MB/s · ETA 6s");
    expect(await stats("forest.mp4")).toBe("Paused · 25%");
    expect(await stats("city.mp4")).toBe("Queued");
    expect(await stats("night.mp4")).toBe("Playable — more qualities coming… 30%");
    expect(await stats("dawn.mp4")).toBe("Ready");
    expect(await stats("notes.mp4")).toContain("could not be processed: No video stream");
    expect(await stats("lost.mp4")).toBe("Upload failed: The connection was lost");
    expect(await page.getByRole("button", { name: "Pause beach.mp4" }).count()).toBe(1);
    expect(await page.getByRole("button", { name: "Resume forest.mp4" }).count()).toBe(1);
    expect(await page.getByRole("button", { name: "Retry lost.mp4" }).count()).toBe(1);
    expect(await page.getByRole("button", { name: "Retry notes.mp4" }).count()).toBe(0);
  },
  "components-uploader-queue--live-multiple": async (page) => {
    const files = ["a.mp4", "b.mp4", "c.mp4"].map((name) => ({ ...clip, name }));
    await page.getByLabel("Choose video files").setInputFiles(files);
    await page.getByLabel("Visibility").selectOption("PUBLIC");
    await page.getByRole("button", { name: "Upload 3 files" }).click();
    // Two at once: the third waits its turn, then all three end ready.
    await page.locator("li", { hasText: "c.mp4" }).getByText("Queued").waitFor({ timeout: 5_000 });
    expect(await page.locator("li", { hasText: "a.mp4" }).getByText("Queued").count()).toBe(0);
    await expect.poll(() => page.getByText("Ready", { exact: true }).count(), { timeout: 40_000 }).toBe(3);
  },
  "components-uploader--live-failing": async (page) => {
    await page.getByLabel("Choose a video file").setInputFiles(clip);
    await page.getByRole("button", { name: "Upload" }).click();
    expect(await text(page, "alert")).toContain("The connection to the server was lost");
    await page.getByRole("button", { name: "Retry" }).click();
    await page.getByLabel("Upload progress").waitFor({ timeout: 5_000 });
  },
  "components-videoplayer--playing": async (page) => {
    await expectPlaying(page);
    const rungs = sampleRungs();
    expect(rungs.length).toBeGreaterThanOrEqual(2);
    await page.getByRole("button", { name: /^Quality:/ }).click();
    const items = page.getByRole("menuitemradio");
    const labels = (await items.allTextContents()).map((l) => l.replace(" ●", ""));
    // Auto first, then every rung, highest first (as the master playlist lists them).
    expect(labels).toEqual(["Auto", ...rungs]);
    // Choosing the lowest rung switches the playing level and keeps playing.
    const lowest = rungs[rungs.length - 1] ?? "";
    await page.getByRole("menuitemradio", { name: new RegExp(`^${lowest}`) }).click();
    await expect
      .poll(() => page.getByRole("button", { name: /^Quality:/ }).getAttribute("aria-label"), { timeout: 15_000 })
      .toBe(`Quality: ${lowest}`);
    await expectPlaying(page);
  },
  "components-videoplayer--poster": async (page) => {
    const video = page.locator("video");
    expect(await video.getAttribute("poster")).toBe("./sample/poster.jpg");
    // Buffered (the loading status goes away) but not started.
    await expect.poll(() => page.getByRole("status").count(), { timeout: 15_000 }).toBe(0);
    expect(await video.evaluate((v: HTMLVideoElement) => v.paused && v.currentTime === 0)).toBe(true);
    expect(await page.getByRole("button", { name: /^Quality: Auto/ }).count()).toBe(1);
  },
  "components-videoplayer--storyboard-thumbnails": async (page) => {
    const seek = page.getByRole("slider", { name: "Seek" });
    // The sample is 10 s: once the duration is known, hovering at 55 % previews 0:05.
    await expect.poll(() => seek.getAttribute("aria-valuemax"), { timeout: 15_000 }).toBe("10");
    const box = await seek.boundingBox();
    if (!box) throw new Error("the seek bar has no box");
    const sprite = page.waitForResponse((r) => r.url().endsWith("/sample/storyboard.jpg") && r.ok());
    await page.mouse.move(box.x + box.width * 0.55, box.y + box.height / 2);
    const preview = page.getByTestId("seek-preview");
    await preview.waitFor({ timeout: 5_000 });
    expect(await preview.locator(".rk-seek-time").textContent()).toBe("0:05");
    const image = preview.locator(".rk-seek-image");
    const style = await image.evaluate((el) => ({
      image: getComputedStyle(el).backgroundImage,
      position: getComputedStyle(el).backgroundPosition,
      width: getComputedStyle(el).width,
    }));
    // One 160 px tile per second, ten to a row (the transcoder's storyboard plan): 0:05 is tile 5.
    expect(style.image).toContain("/sample/storyboard.jpg");
    expect(style.position).toBe("-800px 0px");
    expect(style.width).toBe("160px");
    await sprite;
  },
  "components-videoplayer--captions": async (page) => {
    await page.getByRole("button", { name: "Captions: English" }).waitFor({ timeout: 15_000 });
    await expectPlaying(page);
    const cue = await page
      .locator("video")
      .evaluate((v: HTMLVideoElement) => (v.textTracks[0]?.activeCues?.[0] as VTTCue | undefined)?.text ?? null);
    expect(cue).toMatch(/Storybook sample|rung|captions prop/);
    // Off and on again through the CC menu.
    const mode = () => page.locator("video").evaluate((v: HTMLVideoElement) => v.textTracks[0]?.mode);
    await page.getByRole("button", { name: "Captions: English" }).click();
    await page.getByRole("menuitemradio", { name: "Off" }).click();
    expect(await mode()).toBe("disabled");
    await page.getByRole("button", { name: "Captions: Off" }).click();
    await page.getByRole("menuitemradio", { name: "English" }).click();
    expect(await mode()).toBe("showing");
    expect(await page.getByRole("button", { name: "Captions: English" }).count()).toBe(1);
  },
  "components-videoplayer--chapters-and-theme": async (page) => {
    const player = page.getByRole("region", { name: "Video player: Test pattern" });
    await expect.poll(() => page.getByTestId("chapter-marker").count(), { timeout: 15_000 }).toBe(2);
    const box = await player.boundingBox();
    expect(box && Math.round((box.width / box.height) * 3)).toBe(4);
    expect(await player.evaluate((el) => getComputedStyle(el).getPropertyValue("--rk-accent").trim())).toBe("#0ea5e9");
    expect(await page.getByRole("slider", { name: "Seek" }).getAttribute("aria-valuetext")).toBe(
      "0:00 of 0:10, Opening",
    );
  },
  "components-videoplayer--autoplay-muted-fast": async (page) => {
    await expectPlaying(page);
    expect(await page.locator("video").evaluate((v: HTMLVideoElement) => [v.muted, v.playbackRate])).toEqual([
      true,
      1.5,
    ]);
    await page.getByRole("button", { name: "Playback speed: 1.5×" }).click();
    expect(await page.getByRole("menuitemradio").allTextContents()).toEqual(["Normal", "1.5×"]);
  },
  "components-videoplayer--loading": async (page) => {
    expect(await text(page, "status")).toBe("Loading…");
    await page.waitForTimeout(1_000);
    expect(await text(page, "status")).toBe("Loading…");
    expect(await page.getByRole("alert").count()).toBe(0);
  },
  "components-videoplayer--playlist-not-found": async (page) => {
    expect(await text(page, "alert")).toMatch(/manifest|404|load/i);
  },
  "components-videoplayer--unsupported": async (page) => {
    expect(await text(page, "alert")).toContain("This browser cannot play HLS");
  },
  "components-videoplayer--catalog-ready": expectPlaying,
  "components-videoplayer--catalog-processing": async (page) => {
    expect(await text(page, "status")).toBe("This video is processing");
  },
  "components-videoplayer--catalog-failed": async (page) => {
    expect(await text(page, "alert")).toBe("The file has no video stream (an audio-only file).");
  },
  "components-videoplayer--catalog-not-found": async (page) => {
    expect(await text(page, "alert")).toBe("Video not found");
  },
};

/** Errors a story provokes on purpose (its subject is a failing request). */
const expectedFailures: Record<string, RegExp> = {
  "components-videoplayer--playlist-not-found": /\/sample\/missing\/master\.m3u8$/,
};

/** The states issue 3 asks for; a story id missing here fails the suite. */
const REQUIRED = [
  "components-uploader--with-pickers",
  "components-uploader-queue--states",
  "components-uploader-queue--live-multiple",
  "components-uploader--idle",
  "components-uploader--dragging",
  "components-uploader--uploading",
  "components-uploader--paused",
  "components-uploader--upload-error",
  "components-uploader--processing",
  "components-uploader--done",
  "components-videoplayer--playing",
  "components-videoplayer--poster",
  "components-videoplayer--loading",
  "components-videoplayer--playlist-not-found",
];

// Built (if stale) while collecting, so each story becomes its own test case.
let stories: StoryEntry[] = [];
if (chromiumMissing === null) {
  const reason = staleReason();
  if (reason) await buildStorybook(reason);
  const index = JSON.parse(fs.readFileSync(indexFile, "utf8")) as { entries: Record<string, StoryEntry> };
  stories = Object.values(index.entries).filter((e) => e.type === "story");
}

describeWith("browser", chromiumMissing, "Storybook in Chromium", () => {
  let server: http.Server;
  let browser: Browser;
  let context: BrowserContext;
  let base = "";

  beforeAll(async () => {
    server = await serveStatic(staticDir);
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 800, height: 600 } });
  });
  afterAll(async () => {
    await browser?.close();
    await new Promise((r) => server?.close(r));
  });

  it("has a story for every required state", () => {
    const ids = stories.map((s) => s.id);
    for (const id of REQUIRED) expect(ids).toContain(id);
  });

  for (const story of stories) {
    it(`${story.title} / ${story.name}`, async () => {
      const page = await context.newPage();
      const problems: string[] = [];
      const allowed = expectedFailures[story.id];
      page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
      // The browser asks every new origin for /favicon.ico; Storybook ships favicon.svg instead.
      const ignored = (url: string) => url.endsWith("/favicon.ico") || Boolean(allowed?.test(url));
      page.on("console", (msg: ConsoleMessage) => {
        if (msg.type() !== "error") return;
        const url = msg.location().url;
        if (/Failed to load resource/.test(msg.text()) && ignored(url)) return;
        problems.push(`console error: ${msg.text()} (${url})`);
      });
      page.on("response", (res) => {
        if (res.status() >= 400 && !ignored(res.url())) problems.push(`HTTP ${res.status()} ${res.url()}`);
      });
      try {
        await page.goto(`${base}/iframe.html?id=${story.id}&viewMode=story`);
        await page.locator("#storybook-root > *").first().waitFor({ timeout: 15_000 });
        expect(await page.locator("body.sb-show-errordisplay").count(), "Storybook error display").toBe(0);
        const check = checks[story.id];
        expect(check, `no state check for ${story.id} in storybook.test.ts`).toBeDefined();
        await check?.(page);
        expect(problems).toEqual([]);
      } finally {
        await page.screenshot({ path: artifactPath(`${story.id}.png`) }).catch(() => undefined);
        await page.close();
      }
    });
  }
});
