import fs from "node:fs";
import fsp from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Video } from "@reelkit/sdk/contract";
import { resolveBinaries } from "@reelkit/transcoder";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { signUp, type TestUser } from "../../packages/server/test/factories.js";
import { REPO_ROOT, ServerProcess } from "../../packages/server/test/server-process.js";
import { tusUpload } from "../../packages/server/test/tus-upload.js";
import { describeWith } from "../engines.js";
import { artifactPath, chromiumMissing, launchChromium } from "./chromium.js";
import { describeWatch, makeWatchClip, recordWatch, type WatchClipKind, watchReport } from "./watch-through.js";

// Watching a video while it is still processing, in Chromium, on the embedded defaults (the built
// server with its in-process transcoder): an HEVC .mov (every rung encoded) and an H.264 camera
// clip (top rung passed through) are uploaded, the embed page opens the moment the catalog calls
// them playable, and the player plays each from its first frame to its end. A growing video is
// VOD still being written: the playhead never goes back unless the viewer seeks, and it reaches
// the end.

const SECONDS = 10;

let server: ServerProcess | null = null;
let browser: Browser | null = null;
let work = "";
let uploader: TestUser;
const clips: Partial<Record<WatchClipKind, string>> = {};

async function getVideo(id: string): Promise<Video> {
  const res = await fetch(`${server?.base}/api/videos/${id}`);
  expect(res.status).toBe(200);
  return (await res.json()) as Video;
}

async function untilPlayable(id: string): Promise<Video> {
  const until = Date.now() + 60_000;
  while (Date.now() < until) {
    const v = await getVideo(id);
    if (v.status === "FAILED") throw new Error(`transcode failed: ${v.failureReason}`);
    if (v.playable) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("the video never became playable");
}

describeWith("browser", chromiumMissing, "watching a processing video in Chromium", () => {
  beforeAll(async () => {
    work = await fsp.mkdtemp(path.join(os.tmpdir(), "reelkit-processing-"));
    const { ffmpeg } = resolveBinaries({ ffmpegPath: null, ffprobePath: null });
    // Small enough that the ladder encodes about as fast as it plays on a busy two-core machine.
    clips.hevc = path.join(work, "phone.mov");
    makeWatchClip({ ffmpeg, kind: "hevc", seconds: SECONDS, size: "480x854", file: clips.hevc });
    clips.h264 = path.join(work, "camera.mp4");
    makeWatchClip({ ffmpeg, kind: "h264", seconds: SECONDS, size: "1280x720", file: clips.h264 });
    server = await ServerProcess.start({
      entry: "built",
      env: {
        PORT: "0",
        REELKIT_DATA_DIR: path.join(work, "data"),
        REELKIT_DEMO_DIR: path.join(REPO_ROOT, "apps/demo/dist"),
      },
      startTimeoutMs: 120_000,
    });
    uploader = await signUp(server.base);
    browser = await launchChromium(["--autoplay-policy=no-user-gesture-required"]);
  });

  afterAll(async () => {
    await browser?.close();
    if (server) {
      fs.writeFileSync(artifactPath("processing-playback", "server.log"), server.recentLog());
      await server.destroy();
    }
    if (work) await fsp.rm(work, { recursive: true, force: true });
  });

  for (const kind of ["hevc", "h264"] as const) {
    it(`plays a processing ${kind === "hevc" ? "HEVC .mov" : "H.264 clip"} from its first frame to its end, never going back`, async () => {
      const base = server?.base as string;
      const file = clips[kind] as string;
      const { videoId: id } = await tusUpload(
        base,
        await fsp.readFile(file),
        { filename: path.basename(file), title: `Processing ${kind}` },
        8 * 1024 * 1024,
        uploader.bearer,
      );
      if (!id) throw new Error("no Reelkit-Video-Id header");
      const uploadedAt = Date.now();
      await untilPlayable(id);
      const playableAt = Date.now();

      const page = await (browser as Browser).newPage({ viewport: { width: 640, height: 360 } });
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      await recordWatch(page);
      await page.goto(`${base}/embed/${id}?autoplay=1&muted=1`);
      await page.waitForFunction(() => (window.__watch?.firstFrameAt ?? 0) > 0, null, { timeout: 30_000 });
      const statusAtFirstFrame = (await getVideo(id)).status;
      const watch = await watchReport(page, { timeoutMs: 75_000 });
      const status = (await getVideo(id)).status;
      await page.screenshot({ path: artifactPath("processing-playback", `${kind}-end.png`) });
      await page.close();
      fs.writeFileSync(artifactPath("processing-playback", `${kind}-media-events.log`), watch.log.join("\n"));
      console.log(
        `${kind}: playable ${((playableAt - uploadedAt) / 1000).toFixed(2)} s after the upload, first frame ` +
          `${((watch.firstFrameAt - uploadedAt) / 1000).toFixed(2)} s; ${describeWatch(watch)}; ${status} at the end`,
      );

      expect(errors).toEqual([]);
      expect(watch.error).toBeNull();
      // It began while the video was processing…
      expect(statusAtFirstFrame).toBe("PROCESSING");
      // …never went back or seeked on its own…
      expect(watch.backwardJumps).toEqual([]);
      expect(watch.seeks).toEqual([]);
      // …and played to the end of the whole clip.
      expect(watch.endedAt).not.toBeNull();
      expect(watch.duration).toBeCloseTo(SECONDS, 0);
      expect(watch.furthest).toBeGreaterThan(SECONDS - 0.5);
    });
  }
});
