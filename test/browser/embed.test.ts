import fsp from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser, Frame, Page } from "playwright-core";
import { build } from "vite";
import { afterAll, beforeAll, expect, it } from "vitest";
import { makeReadyVideo, signUp } from "../../packages/server/test/factories.js";
import { startTestApp, type TestApp } from "../../packages/server/test/test-app.js";
import { generateSample } from "../../scripts/storybook-sample.js";
import { describeWith } from "../engines.js";
import { artifactPath, chromiumMissing, launchChromium } from "./chromium.js";
import { serveStatic } from "./static-server.js";

// The embeds in Chromium: the server's /embed/:id page inside a page on another origin (two
// static origins on 127.0.0.1, different ports), driven through postMessage; the same page refused
// as a frame when REELKIT_FRAME_ANCESTORS leaves the parent out; and <reelkit-player> on a plain
// HTML page. The video is READY in the catalog with the Storybook sample's HLS ladder as its files.

const demoRoot = fileURLToPath(new URL("../../apps/demo/", import.meta.url));
const elementPage = fileURLToPath(new URL("./element-page/", import.meta.url));

// The parent page: frames `?src=`, records every Reelkit event the frame posts.
const PARENT = `<!doctype html><html><head><meta charset="utf-8"><title>Parent</title></head><body>
<iframe id="player" width="640" height="360" allow="autoplay; fullscreen"></iframe>
<script>
  window.events = [];
  window.addEventListener("message", (e) => {
    if (e.data && e.data.type === "reelkit:event") window.events.push({ origin: e.origin, ...e.data });
  });
  document.getElementById("player").src = new URLSearchParams(location.search).get("src");
  window.command = (message) => document.getElementById("player").contentWindow.postMessage(message, "*");
</script></body></html>`;

interface RecordedEvent {
  origin: string;
  event: string;
  videoId: string;
  currentTime: number;
  duration: number | null;
  paused: boolean;
}

let work = "";
let server: TestApp | null = null;
let strictServer: TestApp | null = null;
let site: Awaited<ReturnType<typeof serveStatic>> | null = null;
let browser: Browser | null = null;
let siteBase = "";
let videoId = "";

async function openParent(src: string): Promise<{ page: Page; errors: string[] }> {
  const page = await (browser as Browser).newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(`${siteBase}/parent.html?src=${encodeURIComponent(src)}`);
  return { page, errors };
}

const events = (page: Page) => page.evaluate(() => (window as unknown as { events: RecordedEvent[] }).events);
const names = async (page: Page) => (await events(page)).map((e) => e.event);
const command = (page: Page, message: Record<string, unknown>) =>
  page.evaluate(
    (m) => (window as unknown as { command: (m: unknown) => void }).command({ type: "reelkit:command", ...m }),
    message,
  );

describeWith("browser", chromiumMissing, "embeds in Chromium", () => {
  beforeAll(async () => {
    work = await fsp.mkdtemp(path.join(os.tmpdir(), "reelkit-embed-"));
    const sample = await generateSample();
    const demoDir = path.join(work, "demo");
    await build({
      root: demoRoot,
      configFile: path.join(demoRoot, "vite.config.ts"),
      logLevel: "warn",
      build: { outDir: demoDir, emptyOutDir: true },
    });
    const siteDir = path.join(work, "site");
    await build({
      root: elementPage,
      configFile: false,
      logLevel: "warn",
      build: { outDir: siteDir, emptyOutDir: true },
    });
    await fsp.writeFile(path.join(siteDir, "parent.html"), PARENT);
    site = await serveStatic(siteDir);
    siteBase = `http://127.0.0.1:${site.port}`;

    server = await startTestApp({ env: { REELKIT_DEMO_DIR: demoDir } });
    // Same database and files, framing only by the server's own pages.
    strictServer = await startTestApp({
      tdb: server.tdb,
      env: { REELKIT_DEMO_DIR: demoDir, REELKIT_FRAME_ANCESTORS: "'self'" },
    });
    const owner = await signUp(server.base);
    videoId = await makeReadyVideo(server.catalog, { title: "Test pattern", ownerId: owner.id });
    await fsp.cp(sample, path.join(server.tdb.dataDir, "media", "videos", videoId), { recursive: true });
    browser = await launchChromium(["--autoplay-policy=no-user-gesture-required"]);
  });

  afterAll(async () => {
    await browser?.close();
    await site?.close();
    await strictServer?.close();
    await server?.close();
    if (work) await fsp.rm(work, { recursive: true, force: true });
  });

  it("plays in a cross-origin iframe driven by postMessage, and posts its events to the parent", async () => {
    const { page, errors } = await openParent(`${server?.base}/embed/${videoId}?muted=1`);
    try {
      await expect.poll(() => names(page), { timeout: 20_000 }).toContain("ready");
      const ready = (await events(page)).find((e) => e.event === "ready");
      expect(ready).toMatchObject({ origin: server?.base, videoId, paused: true });
      expect(Math.round(ready?.duration ?? 0)).toBe(10);

      await command(page, { command: "play" });
      await expect.poll(() => names(page), { timeout: 15_000 }).toContain("play");
      await expect
        .poll(async () => Math.max(...(await events(page)).map((e) => e.currentTime)), { timeout: 15_000 })
        .toBeGreaterThan(0.5);

      await command(page, { command: "seek", time: 7 });
      await expect
        .poll(async () => (await events(page)).filter((e) => e.event === "timeupdate").at(-1)?.currentTime ?? 0, {
          timeout: 15_000,
        })
        .toBeGreaterThanOrEqual(7);
      await command(page, { command: "pause" });
      await expect.poll(async () => (await events(page)).at(-1)?.event, { timeout: 10_000 }).toBe("pause");

      // timeupdate is throttled: fewer than the media's ~4 a second.
      const updates = (await events(page)).filter((e) => e.event === "timeupdate").length;
      expect(updates).toBeLessThan(20);
      // Something that is not a command is ignored, the frame keeps working.
      await command(page, { command: "explode" });
      await command(page, { command: "unmute" });
      const frame = page.frames().find((f) => f.url().includes("/embed/")) as Frame;
      await expect.poll(() => frame.evaluate(() => document.querySelector("video")?.muted)).toBe(false);
      expect(errors).toEqual([]);
    } catch (err) {
      await page.screenshot({ path: artifactPath("embed-iframe.png") }).catch(() => {});
      throw err;
    } finally {
      await page.close();
    }
  });

  it("is refused as a frame when REELKIT_FRAME_ANCESTORS leaves the parent out", async () => {
    const src = `${strictServer?.base}/embed/${videoId}?muted=1`;
    const direct = await fetch(src, { headers: { accept: "text/html" } });
    expect(direct.headers.get("content-security-policy")).toContain("frame-ancestors 'self'");
    const { page } = await openParent(src);
    try {
      await page.waitForTimeout(2_000);
      // Chromium replaces a refused frame's document with its error page: no player, no events.
      const frame = page.frames().find((f) => f !== page.mainFrame());
      expect(frame?.url()).not.toContain("/embed/");
      expect(await events(page)).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it("<reelkit-player> plays a catalog video on a plain HTML page", async () => {
    const page = await (browser as Browser).newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    try {
      await page.goto(`${siteBase}/`);
      await page.evaluate(
        ({ base, id }) => {
          const el = document.createElement("reelkit-player");
          el.setAttribute("video-id", id);
          el.setAttribute("base-url", base);
          el.setAttribute("muted", "");
          el.setAttribute("start-time", "2");
          const seen: string[] = [];
          for (const type of ["loadedmetadata", "play", "timeupdate"]) el.addEventListener(type, () => seen.push(type));
          (window as unknown as { seen: string[] }).seen = seen;
          document.getElementById("root")?.append(el);
        },
        { base: server?.base as string, id: videoId },
      );
      // No React on the page: the element rendered it inside its shadow root.
      expect(await page.evaluate(() => "React" in window)).toBe(false);
      const seen = () => page.evaluate(() => (window as unknown as { seen: string[] }).seen);
      await expect.poll(seen, { timeout: 20_000 }).toContain("loadedmetadata");
      await page.evaluate(() => document.querySelector("reelkit-player")?.play());
      await expect
        .poll(() => page.evaluate(() => document.querySelector("reelkit-player")?.currentTime ?? 0), {
          timeout: 15_000,
        })
        .toBeGreaterThan(2.3);
      expect(await seen()).toEqual(expect.arrayContaining(["play", "timeupdate"]));
      expect(
        await page.evaluate(
          () => document.querySelector("reelkit-player")?.shadowRoot?.querySelector(".rk-controls") !== null,
        ),
      ).toBe(true);
      expect(errors).toEqual([]);
    } catch (err) {
      await page.screenshot({ path: artifactPath("reelkit-player-element.png") }).catch(() => {});
      throw err;
    } finally {
      await page.close();
    }
  });
});
