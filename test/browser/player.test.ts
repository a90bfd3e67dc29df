import fs from "node:fs";
import fsp from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import type { Browser, Page } from "playwright-core";
import { build } from "vite";
import { afterAll, beforeAll, expect, it } from "vitest";
import { generateSample } from "../../scripts/storybook-sample.js";
import { describeWith } from "../engines.js";
import { axeAudit, blocking } from "./axe.js";
import { artifactPath, chromiumMissing, launchChromium } from "./chromium.js";
import { serveStatic } from "./static-server.js";

// <VideoPlayer> from the built @reelkit/react on a small Vite page (player-page/), playing the
// Storybook HLS sample (Reelkit's own transcode of a lavfi clip) in Chromium: the ref handle,
// media events, autoplay under the usual policy, speed, picture-in-picture, captions from another
// origin, native HLS without hls.js, and an axe-core audit.

const pageSource = fileURLToPath(new URL("./player-page/", import.meta.url));
const CAPTIONS = "WEBVTT\n\n00:00.000 --> 00:10.000\nCaptions from another origin\n";

let work = "";
let site: Awaited<ReturnType<typeof serveStatic>> | null = null;
let captionsServer: http.Server | null = null;
let captionsOrigin = "";
let browser: Browser | null = null;
let strictBrowser: Browser | null = null;
let base = "";

/** Serves one VTT file on its own origin, with CORS (as a CDN would). */
function serveCaptions(): Promise<http.Server> {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/vtt", "access-control-allow-origin": "*" }).end(CAPTIONS);
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

async function open(target: Browser, query = "", init?: (page: Page) => Promise<void>) {
  const page = await target.newPage();
  const errors: string[] = [];
  const requests: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("console", (m) => {
    // The browser asks every new origin for /favicon.ico; the page has none.
    if (m.type() === "error" && !m.location().url.endsWith("/favicon.ico")) errors.push(m.text());
  });
  page.on("request", (r) => requests.push(r.url()));
  await init?.(page);
  await page.goto(`${base}/${query}`);
  await page.getByRole("region", { name: "Video player: Test pattern" }).waitFor({ timeout: 15_000 });
  return { page, errors, requests };
}

const video = (page: Page) => page.locator("video");
const events = (page: Page) => page.evaluate(() => window.playerEvents);

describeWith("browser", chromiumMissing, "<VideoPlayer> in Chromium", () => {
  beforeAll(async () => {
    work = await fsp.mkdtemp(path.join(os.tmpdir(), "reelkit-player-"));
    const sample = await generateSample();
    const outDir = path.join(work, "site");
    await build({
      root: pageSource,
      configFile: false,
      logLevel: "warn",
      plugins: [react()],
      build: { outDir, emptyOutDir: true },
    });
    await fsp.cp(sample, path.join(outDir, "sample"), { recursive: true });
    site = await serveStatic(outDir);
    base = `http://127.0.0.1:${site.port}`;
    captionsServer = await serveCaptions();
    // "localhost" is another origin than the page's 127.0.0.1.
    captionsOrigin = `http://localhost:${(captionsServer.address() as AddressInfo).port}`;
    browser = await launchChromium(["--autoplay-policy=no-user-gesture-required"]);
    strictBrowser = await launchChromium(["--autoplay-policy=document-user-activation-required"]);
  });

  afterAll(async () => {
    await browser?.close();
    await strictBrowser?.close();
    await site?.close();
    await new Promise((r) => captionsServer?.close(r));
    if (work) await fsp.rm(work, { recursive: true, force: true });
  });

  it("the ref handle plays, seeks, sets rate, volume and mute, and the event props fire", async () => {
    const { page, errors } = await open(browser as Browser);
    await expect.poll(() => events(page), { timeout: 15_000 }).toContain("loadedmetadata");
    expect(await page.evaluate(() => window.player?.media instanceof HTMLVideoElement)).toBe(true);
    expect(await page.evaluate(() => Math.round(window.player?.duration ?? 0))).toBe(10);
    await page.evaluate(async () => {
      const p = window.player;
      if (!p) throw new Error("no handle");
      p.muted = true;
      await p.play();
    });
    await expect
      .poll(() => page.evaluate(() => window.player?.currentTime ?? 0), { timeout: 10_000 })
      .toBeGreaterThan(0.5);
    expect(await page.evaluate(() => window.player?.paused)).toBe(false);
    await page.evaluate(() => {
      const p = window.player;
      if (!p) return;
      p.currentTime = 6;
      p.playbackRate = 2;
      p.volume = 0.5;
      p.pause();
    });
    await expect
      .poll(() => events(page))
      .toEqual(expect.arrayContaining(["play", "timeupdate", "seeking", "ratechange", "volumechange", "pause"]));
    expect(await video(page).evaluate((v: HTMLVideoElement) => [v.playbackRate, v.volume, v.muted])).toEqual([
      2,
      0.5,
      true,
    ]);
    expect(await page.evaluate(() => window.player?.paused)).toBe(true);
    // The skin follows: the speed button and the chapter in the seek slider's value.
    expect(await page.getByRole("button", { name: "Playback speed: 2×" }).count()).toBe(1);
    expect(await page.getByRole("slider", { name: "Seek" }).getAttribute("aria-valuetext")).toMatch(/Middle$/);
    expect(errors).toEqual([]);
    await page.close();
  });

  it("changes speed from the menu and keeps playing faster", async () => {
    const { page } = await open(browser as Browser, "?autoPlay=muted");
    await expect
      .poll(() => video(page).evaluate((v: HTMLVideoElement) => v.currentTime), { timeout: 15_000 })
      .toBeGreaterThan(0.3);
    await page.getByRole("button", { name: "Playback speed: 1×" }).click();
    await page.getByRole("menuitemradio", { name: "1.5×" }).click();
    expect(await video(page).evaluate((v: HTMLVideoElement) => v.playbackRate)).toBe(1.5);
    const t0 = await video(page).evaluate((v: HTMLVideoElement) => v.currentTime);
    await page.waitForTimeout(2_000);
    const advanced = (await video(page).evaluate((v: HTMLVideoElement) => v.currentTime)) - t0;
    expect(advanced).toBeGreaterThan(2.2);
    expect(await events(page)).toContain("ratechange");
    await page.close();
  });

  it("autoplay under document-user-activation-required: sound is refused, playback starts muted with an unmute button", async () => {
    // Nothing may be evaluated in the page before the browser has answered play(): Playwright runs
    // its evaluations as user gestures, which would let the page play with sound. The page reports
    // each play() and its answer on the console instead.
    const attempts = async (query: string) => {
      const page = await (strictBrowser as Browser).newPage();
      const answers: string[] = [];
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      page.on("console", (m) => {
        if (m.text().startsWith("play() ")) answers.push(m.text());
      });
      await page.addInitScript(() => {
        const play = HTMLMediaElement.prototype.play;
        HTMLMediaElement.prototype.play = function (this: HTMLMediaElement) {
          const sound = this.muted ? "muted" : "with sound";
          const answer = play.call(this);
          answer.then(
            () => console.log(`play() ${sound}: playing`),
            (e: Error) => console.log(`play() ${sound}: ${e.name}`),
          );
          return answer;
        };
      });
      await page.goto(`${base}/${query}`);
      return { page, answers, errors };
    };

    const any = await attempts("?autoPlay=true");
    await expect
      .poll(() => any.answers, { timeout: 15_000 })
      .toEqual(["play() with sound: NotAllowedError", "play() muted: playing"]);
    const unmute = any.page.getByRole("button", { name: "Tap to unmute" });
    await unmute.waitFor({ timeout: 5_000 });
    expect(await video(any.page).evaluate((v: HTMLVideoElement) => [v.muted, v.paused])).toEqual([true, false]);
    await expect
      .poll(() => video(any.page).evaluate((v: HTMLVideoElement) => v.currentTime), { timeout: 10_000 })
      .toBeGreaterThan(0.3);
    // The viewer's click is a gesture: sound comes on and playback goes on.
    await unmute.click();
    expect(await video(any.page).evaluate((v: HTMLVideoElement) => [v.muted, v.paused])).toEqual([false, false]);
    expect(await unmute.count()).toBe(0);
    expect(any.errors).toEqual([]);
    await any.page.close();

    // "muted" asks for nothing the browser refuses: one play(), muted, and no unmute prompt.
    const muted = await attempts("?autoPlay=muted");
    await expect.poll(() => muted.answers, { timeout: 15_000 }).toEqual(["play() muted: playing"]);
    expect(await muted.page.getByRole("button", { name: "Tap to unmute" }).count()).toBe(0);
    expect(await video(muted.page).evaluate((v: HTMLVideoElement) => [v.muted, v.paused])).toEqual([true, false]);
    expect(muted.errors).toEqual([]);
    await muted.page.close();
  });

  it("offers picture-in-picture where the browser has it", async () => {
    const { page } = await open(browser as Browser);
    const enabled = await page.evaluate(() => document.pictureInPictureEnabled);
    const button = page.getByRole("button", { name: "Picture-in-picture" });
    await expect.poll(() => button.count()).toBe(enabled ? 1 : 0);
    await page.close();
  });

  it("loads captions from another origin with crossOrigin, and cannot without it", async () => {
    const track = encodeURIComponent(`${captionsOrigin}/captions.vtt`);
    const cues = (page: Page) =>
      video(page).evaluate((v: HTMLVideoElement) => {
        const t = v.textTracks[0];
        if (t) t.mode = "showing";
        return t?.cues?.length ?? 0;
      });
    const withCors = await open(browser as Browser, `?crossOrigin=anonymous&track=${track}`);
    await expect.poll(() => cues(withCors.page), { timeout: 10_000 }).toBe(1);
    expect(await withCors.page.getByRole("button", { name: "Captions: English" }).count()).toBe(1);
    expect(withCors.errors).toEqual([]);
    await withCors.page.close();

    const without = await open(browser as Browser, `?track=${track}`);
    await expect.poll(() => without.errors.join("\n"), { timeout: 10_000 }).toMatch(/Unsafe attempt to load URL/);
    expect(await cues(without.page)).toBe(0);
    await without.page.close();
  });

  it("never requests the hls.js chunk where native HLS is reported and MSE is absent", async () => {
    const hlsChunk = (urls: string[]) => urls.filter((u) => /\/assets\/[^/]*hls[^/]*\.js$/i.test(u));
    // The control: with MSE the chunk loads.
    const normal = await open(browser as Browser);
    await expect.poll(() => hlsChunk(normal.requests).length, { timeout: 10_000 }).toBeGreaterThan(0);
    await normal.page.close();

    const native = await open(browser as Browser, "", async (page) => {
      await page.addInitScript(() => {
        const canPlayType = HTMLMediaElement.prototype.canPlayType;
        HTMLMediaElement.prototype.canPlayType = function (type: string) {
          return type === "application/vnd.apple.mpegurl" ? "maybe" : canPlayType.call(this, type);
        };
        for (const name of ["MediaSource", "ManagedMediaSource", "WebKitMediaSource"]) {
          Reflect.deleteProperty(window, name);
        }
      });
    });
    // The element was given the playlist itself, as native HLS plays it.
    await expect
      .poll(() => video(native.page).evaluate((v: HTMLVideoElement) => v.src), { timeout: 10_000 })
      .toMatch(/\/sample\/hls\/master\.m3u8$/);
    await native.page.waitForTimeout(1_000);
    expect(hlsChunk(native.requests)).toEqual([]);
    await native.page.close();
  });

  it("has no serious or critical axe-core violations", async () => {
    const { page } = await open(browser as Browser, `?track=${encodeURIComponent("./sample/storyboard.vtt")}`);
    await page.getByRole("button", { name: /^Quality: Auto/ }).waitFor({ timeout: 15_000 });
    const audit = () => axeAudit(page, ".rk-player");
    const closed = await audit();
    // With a menu open too: the menu and its items are audited as well.
    await page.getByRole("button", { name: /^Quality:/ }).click();
    const open_ = await audit();
    const all = [...closed, ...open_];
    fs.writeFileSync(artifactPath("player", "axe.json"), JSON.stringify(all, null, 2));
    expect(blocking(all)).toEqual([]);
    await page.close();
  });
});
