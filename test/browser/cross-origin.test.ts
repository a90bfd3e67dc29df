import { execFileSync } from "node:child_process";
import fs from "node:fs";
import fsp from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Video } from "@reelkit/sdk/contract";
import { resolveBinaries } from "@reelkit/transcoder";
import react from "@vitejs/plugin-react";
import type { Browser } from "playwright-core";
import { build } from "vite";
import { afterAll, beforeAll, expect, it } from "vitest";
import { signUp } from "../../packages/server/test/factories.js";
import { ServerProcess } from "../../packages/server/test/server-process.js";
import { describeWith } from "../engines.js";
import { artifactPath, chromiumMissing, launchChromium } from "./chromium.js";
import { serveStatic } from "./static-server.js";

// What a third-party site meets: a page on its own origin (http://kit.test:<port>, a small Vite
// build of <Uploader> from the built @reelkit/react) uploads to a Reelkit server on another
// origin (http://127.0.0.1:<port>), in Chromium, with CORS as the browser enforces it.

const PAGE_HOST = "kit.test";
const pageSource = fileURLToPath(new URL("./cross-origin-page/", import.meta.url));

let work = "";
let clip = "";
let site: Awaited<ReturnType<typeof serveStatic>> | null = null;
let browser: Browser | null = null;
const servers: ServerProcess[] = [];

describeWith("browser", chromiumMissing, "the kit on a third-party origin (CORS) in Chromium", () => {
  beforeAll(async () => {
    work = await fsp.mkdtemp(path.join(os.tmpdir(), "reelkit-cors-"));
    clip = path.join(work, "clip.mp4");
    const { ffmpeg } = resolveBinaries({ ffmpegPath: null, ffprobePath: null });
    execFileSync(ffmpeg, [
      ...["-hide_banner", "-loglevel", "error", "-y"],
      ...["-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25:duration=2"],
      ...["-f", "lavfi", "-i", "sine=frequency=440:duration=2"],
      ...["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", clip],
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
    browser = await launchChromium([`--host-resolver-rules=MAP ${PAGE_HOST} 127.0.0.1`]);
  });

  afterAll(async () => {
    await browser?.close();
    await site?.close();
    await Promise.all(servers.map((s) => s.destroy()));
    if (work) await fsp.rm(work, { recursive: true, force: true });
  });

  /** Uploads through <Uploader> to READY, then edits and deletes the video through the SDK. */
  async function uploadFromAnotherOrigin(corsOrigins: (pageOrigin: string) => string, label: string) {
    const pageOrigin = `http://${PAGE_HOST}:${site?.port}`;
    const server = await ServerProcess.start({
      entry: "built",
      env: {
        PORT: "0",
        REELKIT_DATA_DIR: path.join(work, `data-${label}`),
        REELKIT_CORS_ORIGINS: corsOrigins(pageOrigin),
      },
    });
    servers.push(server);
    const user = await signUp(server.base);
    const page = await (browser as Browser).newPage();
    const failed: string[] = [];
    const toServer: { method: string; url: string; status: number }[] = [];
    page.on("requestfailed", (r) => {
      const error = r.failure()?.errorText ?? "";
      // The kit closes the status stream itself once the video is READY.
      if (r.url().endsWith("/events") && error === "net::ERR_ABORTED") return;
      if (r.url().startsWith(server.base)) failed.push(`${r.method()} ${r.url()}: ${error}`);
    });
    page.on("console", (m) => {
      if (m.type() === "error" && /CORS|Access-Control/i.test(m.text())) failed.push(`console: ${m.text()}`);
    });
    page.on("response", (r) => {
      if (r.url().startsWith(server.base))
        toServer.push({ method: r.request().method(), url: r.url(), status: r.status() });
    });
    try {
      await page.goto(
        `${pageOrigin}/?server=${encodeURIComponent(server.base)}&token=${encodeURIComponent(user.token)}`,
      );
      await page.getByLabel("Choose a video file").setInputFiles(clip);
      await page.getByLabel("Title").fill("Across origins");
      await page.getByRole("button", { name: "Upload", exact: true }).click();
      await page.waitForFunction(() => window.kit.ready.length > 0 || window.kit.errors.length > 0, null, {
        timeout: 180_000,
      });
      await page.screenshot({ path: artifactPath("cross-origin", `${label}.png`), fullPage: true });
      const kit = await page.evaluate(() => ({ ...window.kit, client: undefined }));
      expect(kit.errors, `${failed.join("\n")}\n${server.recentLog()}`).toEqual([]);
      expect(failed).toEqual([]);
      expect(kit.created).toHaveLength(1);
      const id = kit.ready[0] as string;
      expect(id).toBe(kit.created[0]);
      // One upload made one video: a single creation, every PATCH accepted.
      const uploads = toServer.filter((r) => r.url.includes("/api/uploads"));
      expect(uploads.filter((r) => r.method === "POST")).toHaveLength(1);
      expect(uploads.filter((r) => r.method === "PATCH").every((r) => r.status === 204)).toBe(true);
      const video = (await (await fetch(`${server.base}/api/videos/${id}`)).json()) as Video;
      expect(video).toMatchObject({ status: "READY", title: "Across origins" });

      // The catalog's PATCH and DELETE from the same page, through the SDK.
      const edited = await page.evaluate((videoId) => window.kit.client.update(videoId, { title: "Renamed" }), id);
      expect(edited.title).toBe("Renamed");
      await page.evaluate((videoId) => window.kit.client.delete(videoId), id);
      expect((await fetch(`${server.base}/api/videos/${id}`)).status).toBe(404);
      expect(failed).toEqual([]);
    } finally {
      fs.writeFileSync(artifactPath("cross-origin", `${label}-server.log`), server.recentLog());
      await page.close();
      await server.stop();
    }
  }

  it("uploads through <Uploader> to READY with REELKIT_CORS_ORIGINS=* (the default)", async () => {
    await uploadFromAnotherOrigin(() => "*", "any-origin");
  });

  it("uploads through <Uploader> to READY with an explicit origin list", async () => {
    await uploadFromAnotherOrigin((origin) => `https://elsewhere.example,${origin}`, "origin-list");
  });
});
