import { execFileSync } from "node:child_process";
import fs from "node:fs";
import fsp from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Video } from "@reelkit/sdk/contract";
import { resolveBinaries } from "@reelkit/transcoder";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { signUp, type TestUser } from "../../packages/server/test/factories.js";
import { ServerProcess } from "../../packages/server/test/server-process.js";
import { describeWith } from "../engines.js";
import { artifactPath, chromiumMissing, launchChromium } from "./chromium.js";

// Instant playback in a real Chromium against a real `npm start`: a camera-like 1080p H.264 clip
// (top rung passed through, four rungs encoded) starts playing on the demo's watch page while it
// is still PROCESSING, and plays on to `ended` across the switch of its playlists to VOD.

const SECONDS = 24;

let server: ServerProcess | null = null;
let browser: Browser | null = null;
let page: Page;
let base = "";
let dataDir = "";
let clip = "";
let uploader: TestUser;

async function getVideo(id: string): Promise<Video> {
  const res = await fetch(`${base}/api/videos/${id}`);
  expect(res.status).toBe(200);
  return (await res.json()) as Video;
}

/** Seconds of media every rung has published (the least of them), and whether all have ended. */
interface Published {
  at: number;
  seconds: number;
  ended: boolean;
  topEnded: boolean;
}

const SEGMENT_SECONDS = 2;
const RELOAD_GRACE_MS = 4_000;

async function publishedNow(id: string): Promise<Published | null> {
  const at = Date.now();
  const hls = `${base}/media/videos/${id}/hls`;
  const master = await fetch(`${hls}/master.m3u8`);
  if (!master.ok) return null;
  const variants = (await master.text()).split("\n").filter((l) => l.endsWith(".m3u8"));
  const rungs = await Promise.all(
    variants.map(async (uri) => {
      const res = await fetch(`${hls}/${uri}`);
      const text = res.ok ? await res.text() : "";
      const seconds = [...text.matchAll(/#EXTINF:([\d.]+)/g)].reduce((sum, m) => sum + Number(m[1]), 0);
      return { uri, seconds, ended: text.includes("#EXT-X-ENDLIST") };
    }),
  );
  if (rungs.length === 0) return null;
  return {
    at,
    seconds: Math.min(...rungs.map((r) => r.seconds)),
    ended: rungs.every((r) => r.ended),
    topEnded: rungs.find((r) => r.uri.startsWith("1080p/"))?.ended ?? false,
  };
}

/** tus creation-with-upload: the whole file in the POST; resolves after its last byte is stored. */
async function upload(file: string, title: string): Promise<string> {
  const body = await fsp.readFile(file);
  const res = await fetch(`${base}/api/uploads`, {
    method: "POST",
    headers: {
      ...uploader.bearer,
      "Tus-Resumable": "1.0.0",
      "Upload-Length": String(body.length),
      "Upload-Metadata": `title ${Buffer.from(title).toString("base64")},filename ${Buffer.from("camera.mp4").toString("base64")}`,
      "Content-Type": "application/offset+octet-stream",
    },
    body,
  });
  expect(res.status).toBe(201);
  expect(res.headers.get("upload-offset")).toBe(String(body.length));
  return res.headers.get("reelkit-video-id") as string;
}

describeWith("browser", chromiumMissing, "instant playback in Chromium", () => {
  beforeAll(async () => {
    dataDir = await fsp.mkdtemp(path.join(os.tmpdir(), "reelkit-instant-"));
    clip = path.join(dataDir, "camera.mp4");
    const { ffmpeg } = resolveBinaries({ ffmpegPath: null, ffprobePath: null });
    // Like a camera file: 1080p30 High profile with B-frames, a keyframe every second, AAC.
    execFileSync(ffmpeg, [
      ...["-hide_banner", "-loglevel", "error", "-y"],
      ...["-f", "lavfi", "-i", `testsrc2=size=1920x1080:rate=30:duration=${SECONDS}`],
      ...["-f", "lavfi", "-i", `sine=frequency=440:duration=${SECONDS}`],
      ...["-c:v", "libx264", "-preset", "ultrafast", "-profile:v", "high", "-bf", "3", "-g", "30"],
      ...["-pix_fmt", "yuv420p", "-b:v", "6M", "-c:a", "aac", "-shortest", clip],
    ]);
    server = await ServerProcess.start({
      entry: "npm-start",
      env: { PORT: "0", REELKIT_DATA_DIR: path.join(dataDir, "data") },
      startTimeoutMs: 540_000,
    });
    base = server.base;
    uploader = await signUp(base);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.on("pageerror", (err) => console.error("page error:", err));
  });

  afterAll(async () => {
    await browser?.close();
    if (server) {
      fs.writeFileSync(artifactPath("instant", "server.log"), server.recentLog());
      await Promise.race([server.stop(), new Promise((r) => setTimeout(r, 10_000))]);
      await server.destroy();
    }
    if (dataDir) await fsp.rm(dataDir, { recursive: true, force: true });
  });

  it("plays a processing video from the start, on to the end across the switch to VOD, then lists every rung", async () => {
    await page.goto(`${base}/`);
    const id = await upload(clip, "Camera clip, instant");

    // Follow the job in the background, by this machine's clock: what every rung has published
    // (seconds of media, EXT-X-ENDLIST) over time, when the whole ladder switched from EVENT to
    // VOD (every rung ended), and when the video is READY.
    let readyAt = 0;
    const statuses: string[] = [];
    const published: Published[] = [];
    const following = (async () => {
      const until = Date.now() + 280_000;
      while (readyAt === 0 && Date.now() < until) {
        const v = await getVideo(id);
        if (statuses.at(-1) !== v.status) statuses.push(v.status);
        if (v.status === "READY") readyAt = Date.now();
        if (v.status === "FAILED") throw new Error(`transcode failed: ${v.failureReason}`);
        const now = await publishedNow(id);
        if (now) {
          published.push(now);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    })();

    await page.goto(`${base}/watch/${id}`);
    const player = page.getByRole("region", { name: "Video player" });
    await player.waitFor({ timeout: 60_000 });
    // Record what the <video> element does, by the same wall clock.
    await page.evaluate(() => {
      const v = document.querySelector("video") as HTMLVideoElement;
      const log: { type: string; at: number; t: number }[] = [];
      (window as unknown as { __media: typeof log }).__media = log;
      for (const type of ["playing", "waiting", "ended", "error"])
        v.addEventListener(type, () => log.push({ type, at: Date.now(), t: v.currentTime }));
    });
    await player.focus();
    await page.keyboard.press("k");
    await page.waitForFunction(() => (document.querySelector("video")?.currentTime ?? 0) > 0.5, null, {
      timeout: 60_000,
    });
    const startedAt = Date.now();
    await page.screenshot({ path: artifactPath("instant", "playing-while-processing.png") });
    // Playback began before the video was READY. (The playable phase copies the passed-through top
    // rung to its end within a second or two; the ladder phase encodes the other rungs after it.)
    expect(readyAt).toBe(0);
    expect((await getVideo(id)).status).toBe("PROCESSING");
    // Still processing: its playable phase, or (a passthrough source plays from its copied rung)
    // the ladder phase encoding the other rungs.
    await page.getByText(/Still processing|Playable — more qualities coming/).waitFor();

    await page.waitForFunction(() => document.querySelector("video")?.ended === true, null, { timeout: 300_000 });
    await following;
    expect(readyAt).toBeGreaterThan(0);
    const media = await page.evaluate(
      () => (window as unknown as { __media: { type: string; at: number; t: number }[] }).__media,
    );
    const final = await page.evaluate(() => {
      const v = document.querySelector("video") as HTMLVideoElement;
      return { currentTime: v.currentTime, duration: v.duration, error: v.error?.message ?? null };
    });
    expect(final.error).toBeNull();
    expect(final.duration).toBeCloseTo(SECONDS, 0);
    expect(final.currentTime).toBeGreaterThan(SECONDS - 0.5);
    // It crossed the switch: the ladder finished (READY) after playback began, and playback went
    // on to its end.
    const ended = media.find((e) => e.type === "ended");
    expect(readyAt).toBeGreaterThan(startedAt);
    expect(ended?.at).toBeGreaterThan(startedAt);
    expect(statuses).toContain("PROCESSING");
    // No stall: the player never waited for media that every rung had published a playlist
    // reload earlier (hls.js reloads an EVENT playlist every target duration, 2 s). Waiting at the
    // live edge — playback catching up with a slow encode — is not a stall; waiting for segments
    // that were there, before or after the switch to VOD, is.
    const stalls = media.filter((e) => {
      if (e.type !== "waiting") return false;
      const known = published.filter((p) => p.at <= e.at - RELOAD_GRACE_MS).at(-1);
      return known !== undefined && (known.ended || known.seconds >= e.t + SEGMENT_SECONDS);
    });
    expect(stalls).toEqual([]);
    expect(media.filter((e) => e.type === "error")).toEqual([]);

    // The quality menu lists Auto and every rung of the finished ladder, passthrough on top. A
    // player that loaded the first master (the playable rung) keeps it; a new page load gets the
    // finished ladder (docs/scheduling.md).
    const video = await getVideo(id);
    expect(video.renditions.map((r) => r.name)).toEqual(["1080p", "720p", "480p", "360p", "180p"]);
    await page.reload();
    await player.waitFor({ timeout: 60_000 });
    await player.focus();
    await page.keyboard.press("k");
    await page.waitForFunction(() => (document.querySelector("video")?.currentTime ?? 0) > 0.2, null, {
      timeout: 60_000,
    });
    await page.getByRole("button", { name: /quality/i }).click();
    const names = (await page.getByRole("menuitemradio").allTextContents()).map((t) => t.replace(/[^\w]/g, ""));
    expect(names).toEqual(["Auto", ...video.renditions.map((r) => r.name)]);
    await page.screenshot({ path: artifactPath("instant", "ended.png") });
  });
});
