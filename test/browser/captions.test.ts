import { execFileSync } from "node:child_process";
import fsp from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { loadConfig } from "@reelkit/core";
import { resolveBinaries } from "@reelkit/transcoder";
import react from "@vitejs/plugin-react";
import type { Browser, Page } from "playwright-core";
import { build } from "vite";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createEmbeddedRuntime, type EmbeddedRuntime } from "../../packages/server/src/runtime.js";
import { signUp, uploadAs, waitForVideo } from "../../packages/server/test/factories.js";
import { describeWith } from "../engines.js";
import { chromiumMissing, launchChromium } from "./chromium.js";
import { serveStatic } from "./static-server.js";

// Text tracks added over the API to a video the real pipeline transcoded (embedded runtime), played
// in Chromium by <VideoPlayer> through hls.js from the master playlist's SUBTITLES group: the
// captions menu lists both tracks (an SRT and a WebVTT upload), the default one shows, and cues
// are active at the media times the files give.

const pageSource = fileURLToPath(new URL("./player-page/", import.meta.url));
const bin = resolveBinaries({ ffmpegPath: null, ffprobePath: null });

const SRT = "1\n00:00:00,100 --> 00:00:03,000\nHello from SRT\n\n2\n00:00:04,000 --> 00:00:07,500\nLater & louder\n";
const VTT = "WEBVTT\n\n00:00:00.100 --> 00:00:07.500\nBonjour du WebVTT\n";

let work = "";
let runtime: EmbeddedRuntime | null = null;
let site: Awaited<ReturnType<typeof serveStatic>> | null = null;
let browser: Browser | null = null;
let playbackUrl = "";
let pageBase = "";

describeWith("browser", chromiumMissing, "captions through hls.js in Chromium", () => {
  beforeAll(async () => {
    work = await fsp.mkdtemp(path.join(os.tmpdir(), "reelkit-captions-"));
    const clip = path.join(work, "clip.mp4");
    execFileSync(bin.ffmpeg, [
      ...["-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25:duration=8"],
      ...["-f", "lavfi", "-i", "sine=frequency=330:duration=8"],
      ...["-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", clip],
    ]);
    const outDir = path.join(work, "site");
    await build({
      root: pageSource,
      configFile: false,
      logLevel: "warn",
      plugins: [react()],
      build: { outDir, emptyOutDir: true },
    });
    site = await serveStatic(outDir);
    pageBase = `http://127.0.0.1:${site.port}`;
    runtime = await createEmbeddedRuntime(
      loadConfig({ REELKIT_DATA_DIR: path.join(work, "data"), REELKIT_LOG_LEVEL: "silent", REELKIT_RUNGS: "180" }),
    );
    // "localhost": another origin than the page's 127.0.0.1, as a CDN would be.
    const apiBase = (await runtime.app.listen({ port: 0, host: "127.0.0.1" })).replace("127.0.0.1", "localhost");
    const owner = await signUp(apiBase);
    const id = await uploadAs(
      apiBase,
      owner.bearer,
      { filename: "clip.mp4", title: "Test pattern" },
      await fsp.readFile(clip),
    );
    const video = await waitForVideo(apiBase, id, (v) => v.status === "READY" || v.status === "FAILED");
    expect(video.status).toBe("READY");
    for (const [query, body, type] of [
      ["language=en&label=English&default=true", SRT, "application/x-subrip"],
      ["language=fr&label=Fran%C3%A7ais", VTT, "text/vtt"],
    ] as const) {
      const res = await fetch(`${apiBase}/api/videos/${id}/captions?${query}`, {
        method: "POST",
        headers: { ...owner.bearer, "content-type": type },
        body,
      });
      expect(res.status).toBe(201);
    }
    playbackUrl = `${apiBase}${video.playbackUrl}`;
    browser = await launchChromium(["--autoplay-policy=no-user-gesture-required"]);
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await site?.close();
    await runtime?.close();
    if (work) await fsp.rm(work, { recursive: true, force: true });
  });

  /** Text of the showing track's active cues, as the browser renders it (entities decoded, no markup). */
  const activeCues = (page: Page) =>
    page.locator("video").evaluate((v: HTMLVideoElement) => {
      const showing = Array.from(v.textTracks).find((t) => t.mode === "showing");
      return Array.from(showing?.activeCues ?? []).map((c) => (c as VTTCue).getCueAsHTML().textContent);
    });

  it("lists both tracks in the captions menu, shows the default one and switches", async () => {
    const page = await (browser as Browser).newPage();
    const requests: string[] = [];
    page.on("request", (r) => requests.push(r.url()));
    await page.goto(`${pageBase}/?crossOrigin=anonymous&src=${encodeURIComponent(playbackUrl)}`);
    const captions = page.getByRole("button", { name: /^Captions: / });
    await captions.waitFor({ timeout: 20_000 });
    // The page passes no `tracks`: what the menu lists, hls.js made from the SUBTITLES group.
    await expect.poll(() => captions.getAttribute("aria-label"), { timeout: 10_000 }).toBe("Captions: English");
    await captions.click();
    const items = page.getByRole("menuitemradio");
    expect(await items.allTextContents()).toEqual(["Off", "English", "Français"]);
    await page.keyboard.press("Escape");

    await page.locator("video").evaluate(async (v: HTMLVideoElement) => {
      v.muted = true;
      await v.play();
    });
    await expect.poll(() => activeCues(page), { timeout: 15_000 }).toEqual(["Hello from SRT"]);
    // Segmented WebVTT lines up with the media: the second cue shows after 4 s, not before.
    await page.locator("video").evaluate((v: HTMLVideoElement) => {
      v.pause();
      v.currentTime = 3.5;
    });
    await expect.poll(() => activeCues(page), { timeout: 10_000 }).toEqual([]);
    await page.locator("video").evaluate((v: HTMLVideoElement) => {
      v.currentTime = 5;
    });
    await expect.poll(() => activeCues(page), { timeout: 10_000 }).toEqual(["Later & louder"]);

    await captions.click();
    await page.getByRole("menuitemradio", { name: "Français" }).click();
    await expect.poll(() => activeCues(page), { timeout: 10_000 }).toEqual(["Bonjour du WebVTT"]);
    expect(await captions.getAttribute("aria-label")).toBe("Captions: Français");
    expect(requests.some((u) => /\/hls\/subtitles\/fr-[0-9a-f]+\/seg-\d+\.vtt$/.test(u))).toBe(true);
    await page.close();
  });
});
