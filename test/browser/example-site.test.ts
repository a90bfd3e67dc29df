import { execFileSync } from "node:child_process";
import fs from "node:fs";
import fsp from "node:fs/promises";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Video } from "@reelkit/sdk/contract";
import { createReelkitServer } from "@reelkit/sdk/server";
import { resolveBinaries } from "@reelkit/transcoder";
import react from "@vitejs/plugin-react";
import type { FastifyInstance } from "fastify";
import type { Browser } from "playwright-core";
import { build } from "vite";
import { afterAll, beforeAll, expect, it } from "vitest";
import { buildSite, registerWebhook, SiteStore } from "../../apps/example-site/server/site.js";
import { createApiKey, signUp } from "../../packages/server/test/factories.js";
import { ServerProcess } from "../../packages/server/test/server-process.js";
import { describeWith } from "../engines.js";
import { artifactPath, chromiumMissing, launchChromium } from "./chromium.js";

// apps/example-site as its users meet it: its page on its own origin (http://site.test:<port>)
// uploads three files at once, with tokens its backend mints, to a Reelkit server on another
// origin; the page is reloaded mid-upload and each upload resumes from its offset; the
// backend learns of each video from signed webhooks, matched by the passthrough it chose.

const SITE_HOST = "site.test";
const siteSource = fileURLToPath(new URL("../../apps/example-site/", import.meta.url));
const MIB = 1024 * 1024;
const NAMES = ["beach.mp4", "forest.mp4", "city.mp4"];

let work = "";
const clips: string[] = [];
let browser: Browser | null = null;
let server: ServerProcess | null = null;
let site: FastifyInstance | null = null;
let store: SiteStore | null = null;
let sitePort = 0;
let apiKey = "";

/** A 2 s clip padded with a trailing `free` box (valid MP4, ignored by decoders) to `size` bytes. */
function makeClip(file: string, frequency: number, size: number): void {
  const { ffmpeg } = resolveBinaries({ ffmpegPath: null, ffprobePath: null });
  execFileSync(ffmpeg, [
    ...["-hide_banner", "-loglevel", "error", "-y"],
    ...["-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25:duration=2"],
    ...["-f", "lavfi", "-i", `sine=frequency=${frequency}:duration=2`],
    ...["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", file],
  ]);
  const pad = size - fs.statSync(file).size;
  const box = Buffer.alloc(pad);
  box.writeUInt32BE(pad, 0);
  box.write("free", 4, "latin1");
  fs.appendFileSync(file, box);
}

describeWith("browser", chromiumMissing, "the example site (apps/example-site) in Chromium", () => {
  beforeAll(async () => {
    work = await fsp.mkdtemp(path.join(os.tmpdir(), "reelkit-example-site-"));
    NAMES.forEach((name, i) => {
      const file = path.join(work, name);
      makeClip(file, 330 + i * 110, 6 * MIB + i * 4096);
      clips.push(file);
    });
    const pageDir = path.join(work, "dist");
    await build({
      root: siteSource,
      configFile: false,
      logLevel: "warn",
      plugins: [react()],
      build: { outDir: pageDir, emptyOutDir: true },
    });
    server = await ServerProcess.start({
      entry: "built",
      env: {
        PORT: "0",
        REELKIT_DATA_DIR: path.join(work, "reelkit"),
        REELKIT_WEBHOOK_ALLOW_PRIVATE: "true",
      },
    });
    const user = await signUp(server.base);
    apiKey = (await createApiKey(server.base, user, "example site")).key;
    store = new SiteStore(path.join(work, "site-data.json"));
    site = buildSite({ reelkitUrl: server.base, apiKey, store, pageDir });
    await site.listen({ port: 0, host: "127.0.0.1" });
    sitePort = (site.server.address() as AddressInfo).port;
    await registerWebhook(
      createReelkitServer({ baseUrl: server.base, apiKey }),
      store,
      `http://127.0.0.1:${sitePort}/webhooks/reelkit`,
    );
    browser = await launchChromium([`--host-resolver-rules=MAP ${SITE_HOST} 127.0.0.1`]);
  });

  afterAll(async () => {
    await browser?.close();
    await site?.close();
    if (server) fs.writeFileSync(artifactPath("example-site", "server.log"), server.recentLog());
    await server?.destroy();
    if (work) await fsp.rm(work, { recursive: true, force: true });
  });

  it("uploads three files at once, resumes each from its offset after a reload, and receives signed video.ready webhooks with its passthrough", async () => {
    const reelkit = server as ServerProcess;
    const siteStore = store as SiteStore;
    const page = await (browser as Browser).newPage();
    const requests: { method: string; url: string; offset: number | null; at: "before" | "after" }[] = [];
    const failures: string[] = [];
    const consoleLog: string[] = [];
    let phase: "before" | "after" = "before";
    page.on("request", (r) => {
      if (!r.url().startsWith(`${reelkit.base}/api/uploads`)) return;
      const offset = r.headers()["upload-offset"];
      requests.push({ method: r.method(), url: r.url(), offset: offset ? Number(offset) : null, at: phase });
    });
    page.on("console", (m) => {
      consoleLog.push(`${m.type()}: ${m.text()}`);
      if (m.type() === "error" && /CORS|Access-Control/i.test(m.text())) failures.push(m.text());
    });
    page.on("pageerror", (e) => consoleLog.push(`pageerror: ${e.message}`));
    const uploadUrls = new Map<string, string>();
    page.on("response", (r) => {
      if (r.request().method() === "POST" && r.url() === `${reelkit.base}/api/uploads` && r.status() === 201) {
        uploadUrls.set(new URL(r.headers().location ?? "", r.url()).href, r.headers()["reelkit-video-id"] ?? "");
      }
    });
    // A slow uplink, so that the reload lands while every file is partly sent.
    const cdp = await page.context().newCDPSession(page);
    const throttle = (bytesPerSecond: number) =>
      cdp.send("Network.emulateNetworkConditions", {
        offline: false,
        latency: bytesPerSecond > 0 ? 5 : 0,
        downloadThroughput: -1,
        uploadThroughput: bytesPerSecond,
      });
    try {
      await throttle(1.5 * MIB);
      const siteOrigin = `http://${SITE_HOST}:${sitePort}`;
      await page.goto(`${siteOrigin}/`);
      await page.getByLabel("Choose video files").setInputFiles(clips);
      await page.getByLabel("Visibility").selectOption("PUBLIC");
      await page.getByLabel("Tags").fill("holiday, Example");
      await page.getByRole("button", { name: "Upload 3 files" }).click();
      // All three are sending at once (the default concurrency is 3), each past 10%.
      await page.waitForFunction(
        (names) =>
          names.every((n) => {
            const bar = document.querySelector(`progress[aria-label="Upload progress of ${n}"]`);
            return bar instanceof HTMLProgressElement && bar.value >= 10;
          }),
        NAMES,
        { timeout: 60_000 },
      );
      expect(uploadUrls.size).toBe(3);
      await page.screenshot({ path: artifactPath("example-site", "mid-upload.png"), fullPage: true });

      phase = "after";
      await page.reload();
      await throttle(-1);
      // The same files picked again: each upload is found by its fingerprint and continued.
      await page.getByLabel("Choose video files").setInputFiles(clips);
      await page.getByRole("button", { name: "Upload 3 files" }).click();

      await expect
        .poll(() => siteStore.data.clips.filter((c) => c.status === "READY").length, {
          timeout: 240_000,
          interval: 500,
        })
        .toBe(3);
      await page.screenshot({ path: artifactPath("example-site", "ready.png"), fullPage: true });

      // Three uploads in all: no file was created again after the reload.
      expect(requests.filter((r) => r.method === "POST")).toHaveLength(3);
      expect(requests.filter((r) => r.method === "POST" && r.at === "after")).toEqual([]);
      for (const url of uploadUrls.keys()) {
        // After the reload, each upload asked the server where it stood, then sent from there.
        const after = requests.filter((r) => r.url === url && r.at === "after");
        expect(after[0]?.method, url).toBe("HEAD");
        const firstPatch = after.find((r) => r.method === "PATCH");
        expect(firstPatch?.offset, `${url} resumed from 0`).toBeGreaterThan(0);
      }

      // The backend matched every video to the upload it minted a token for, by passthrough,
      // from webhooks it verified (it keeps nothing else).
      expect(siteStore.data.clips.map((c) => c.fileName).sort()).toEqual([...NAMES].sort());
      const created = new Set(uploadUrls.values());
      for (const clip of siteStore.data.clips) {
        expect(created.has(clip.videoId as string)).toBe(true);
        const ready = siteStore.data.events.filter((e) => e.type === "video.ready" && e.videoId === clip.videoId);
        expect(ready).toHaveLength(1);
        expect(ready[0]?.passthrough).toBe(clip.passthrough);
        const video = (await (
          await fetch(`${reelkit.base}/api/videos/${clip.videoId}`, { headers: { authorization: `Bearer ${apiKey}` } })
        ).json()) as Video;
        expect(video).toMatchObject({
          status: "READY",
          passthrough: clip.passthrough,
          title: clip.fileName.replace(/\.mp4$/, ""),
          visibility: "PUBLIC",
          tags: ["holiday", "example"],
        });
      }
      // Each event once, though delivery is at least once.
      const ids = siteStore.data.events.map((e) => e.webhookId);
      expect(new Set(ids).size).toBe(ids.length);
      expect(failures).toEqual([]);

      // An unsigned or tampered delivery is refused and changes nothing.
      const forged = await fetch(`http://127.0.0.1:${sitePort}/webhooks/reelkit`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "webhook-id": "msg_forged",
          "webhook-timestamp": String(Math.floor(Date.now() / 1000)),
          "webhook-signature": "v1,AAAA",
        },
        body: JSON.stringify({ type: "video.deleted", timestamp: new Date().toISOString(), data: { id: "x" } }),
      });
      expect(forged.status).toBe(400);
      expect(siteStore.data.events.some((e) => e.webhookId === "msg_forged")).toBe(false);

      // The page shows the clips as ready, with a player each.
      await expect.poll(() => page.locator("[data-passthrough] video").count(), { timeout: 15_000 }).toBe(3);
    } finally {
      fs.writeFileSync(
        artifactPath("example-site", "requests.json"),
        JSON.stringify({ requests, store: siteStore.data, console: consoleLog }, null, 2),
      );
      fs.writeFileSync(artifactPath("example-site", "page.txt"), (await page.textContent("body").catch(String)) ?? "");
      await page.close();
    }
  });
});
