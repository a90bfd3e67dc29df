import { execFileSync } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { loadConfig } from "@reelkit/core";
import type { CaptionTrack, CaptionTrackList, Video } from "@reelkit/sdk/contract";
import { resolveBinaries } from "@reelkit/transcoder";
import HLS from "hls-parser";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { createEmbeddedRuntime, type EmbeddedRuntime } from "../src/runtime.js";
import { getVideo, makeQueuedVideo, readyEvent, signUp, type TestUser, uploadAs, waitForVideo } from "./factories.js";

// Captions and chapters on a real video: a lavfi clip uploaded over tus, transcoded by the real
// pipeline (embedded runtime), then text tracks added over HTTP as SRT and WebVTT files.

const bin = resolveBinaries({ ffmpegPath: null, ffprobePath: null });
let dataDir = "";
let runtime: EmbeddedRuntime | null = null;
let base = "";
let owner: TestUser;
let stranger: TestUser;
let videoId = "";
let video: Video;

const SRT = `1
00:00:00,200 --> 00:00:02,800
Hello from the <b>SRT</b> track <script>x()</script>

2
00:00:03,000 --> 00:00:05,500
Second & last
`;

const VTT = `WEBVTT

00:00:00.200 --> 00:00:05.500 line:0
Bonjour
`;

function postCaption(
  query: string,
  body: string | Buffer,
  type: string,
  auth: Record<string, string> = owner.bearer,
  id = videoId,
): Promise<Response> {
  return fetch(`${base}/api/videos/${id}/captions?${query}`, {
    method: "POST",
    headers: { ...auth, "content-type": type },
    body: typeof body === "string" ? body : new Uint8Array(body),
  });
}

async function text(url: string | URL): Promise<string> {
  const res = await fetch(url);
  expect(res.status, String(url)).toBe(200);
  return res.text();
}

/** Names, sizes and times of every file of the ladder: what a re-transcode would change. */
async function ladderFiles(id: string): Promise<string[]> {
  const storage = runtime?.storage;
  if (!storage) throw new Error("no runtime");
  const files = await storage.list(`videos/${id}/hls/`);
  return files
    .filter((f) => !f.key.includes("/hls/subtitles/"))
    .map((f) => `${f.key} ${f.size} ${f.modifiedAt.getTime()}`)
    .sort();
}

beforeAll(async () => {
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "reelkit-media-features-"));
  const clip = path.join(dataDir, "clip.mp4");
  execFileSync(bin.ffmpeg, [
    ...["-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25:duration=6"],
    ...["-f", "lavfi", "-i", "sine=frequency=330:duration=6"],
    ...["-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", clip],
  ]);
  runtime = await createEmbeddedRuntime(
    loadConfig({ REELKIT_DATA_DIR: dataDir, REELKIT_LOG_LEVEL: "silent", REELKIT_RUNGS: "180" }),
  );
  base = await runtime.app.listen({ port: 0, host: "127.0.0.1" });
  owner = await signUp(base);
  stranger = await signUp(base);
  videoId = await uploadAs(base, owner.bearer, { filename: "clip.mp4", title: "Captioned" }, await fs.readFile(clip));
  video = await waitForVideo(base, videoId, (v) => v.status === "READY" || v.status === "FAILED");
  expect(video.status).toBe("READY");
}, 180_000);

afterAll(async () => {
  await runtime?.close();
  await fs.rm(dataDir, { recursive: true, force: true });
});

describe("captions", () => {
  let english: CaptionTrack;

  it("adds an SRT track as WebVTT without re-transcoding anything", async () => {
    const before = await ladderFiles(videoId);
    const res = await postCaption("language=en&label=English&default=true&kind=captions", SRT, "application/x-subrip");
    expect(res.status).toBe(201);
    english = (await res.json()) as CaptionTrack;
    expect(english).toMatchObject({ language: "en", label: "English", kind: "captions", default: true, cueCount: 2 });
    expect(await text(`${base}${english.url}`)).toBe(
      "WEBVTT\n\n00:00:00.200 --> 00:00:02.800\nHello from the <b>SRT</b> track x()\n\n00:00:03.000 --> 00:00:05.500\nSecond &amp; last\n",
    );
    expect(await ladderFiles(videoId)).toEqual(before);
    const again = await waitForVideo(base, videoId, () => true);
    expect(again.status).toBe("READY");
    expect(again.captions).toEqual([english]);
  });

  it("adds a WebVTT track and lists both", async () => {
    const res = await postCaption("language=fr&label=Fran%C3%A7ais", VTT, "text/vtt; charset=utf-8");
    expect(res.status).toBe(201);
    const list = (await (await fetch(`${base}/api/videos/${videoId}/captions`)).json()) as CaptionTrackList;
    expect(list.items.map((t) => [t.language, t.label, t.kind, t.default])).toEqual([
      ["en", "English", "captions", true],
      ["fr", "Français", "subtitles", false],
    ]);
  });

  it("serves them in the master playlist as a SUBTITLES group, segmented like the media", async () => {
    const masterUrl = new URL(`${base}${video.playbackUrl}`);
    const raw = await text(masterUrl);
    const master = HLS.parse(raw) as HLS.types.MasterPlaylist;
    expect(master.isMasterPlaylist).toBe(true);
    const subs = raw.split("\n").filter((l) => l.startsWith("#EXT-X-MEDIA:TYPE=SUBTITLES"));
    expect(subs).toHaveLength(2);
    for (const line of subs) {
      // Apple's HLS authoring rules: every SUBTITLES rendition names its group, name, language,
      // AUTOSELECT=YES and a URI; DEFAULT=YES only with AUTOSELECT=YES.
      expect(line).toMatch(/GROUP-ID="subs"/);
      expect(line).toMatch(/NAME="[^"]+"/);
      expect(line).toMatch(/LANGUAGE="(en|fr)"/);
      expect(line).toMatch(/AUTOSELECT=YES/);
      expect(line).toMatch(/URI="subtitles\/[a-z]+-[0-9a-f]+\/index\.m3u8"/);
    }
    expect(subs[0]).toMatch(/DEFAULT=YES/);
    expect(subs[0]).toMatch(/CHARACTERISTICS="public\.accessibility\.transcribes-spoken-dialog/);
    expect(subs[1]).toMatch(/DEFAULT=NO/);
    for (const variant of master.variants) {
      expect(variant.subtitles.map((r) => r.groupId)).toEqual(["subs", "subs"]);
    }
    const variant = master.variants[0] as HLS.types.Variant;
    const mediaUrl = new URL(variant.uri, masterUrl);
    const media = HLS.parse(await text(mediaUrl)) as HLS.types.MediaPlaylist;
    for (const rendition of variant.subtitles) {
      const url = new URL(rendition.uri as string, masterUrl);
      const playlist = HLS.parse(await text(url)) as HLS.types.MediaPlaylist;
      expect(playlist.playlistType).toBe("VOD");
      expect(playlist.endlist).toBe(true);
      expect(playlist.segments.map((s) => s.duration)).toEqual(media.segments.map((s) => s.duration));
      for (const s of playlist.segments) {
        expect(Math.round(s.duration)).toBeLessThanOrEqual(playlist.targetDuration);
        const segment = await text(new URL(s.uri, url));
        expect(segment.startsWith("WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000\n")).toBe(true);
      }
    }
  });

  it("replaces a language's track under a new URL and removes the old files", async () => {
    const res = await postCaption("language=en&label=English", "WEBVTT\n\n00:01.000 --> 00:02.000\nNew\n", "text/vtt");
    expect(res.status).toBe(201);
    const replaced = (await res.json()) as CaptionTrack;
    expect(replaced.url).not.toBe(english.url);
    expect(replaced.default).toBe(false);
    expect((await fetch(`${base}${english.url}`)).status).toBe(404);
    expect(await text(`${base}${replaced.url}`)).toContain("New");
  });

  it.each([
    [
      "a malformed SRT, naming the line",
      "1\n00:00:01,000 -> 00:00:02,000\nHi\n",
      "application/x-subrip",
      400,
      "CAPTIONS_INVALID",
      /Line 2/,
    ],
    [
      "a WebVTT file without its header",
      "00:01.000 --> 00:02.000\nHi\n",
      "text/vtt",
      400,
      "CAPTIONS_INVALID",
      /Line 1/,
    ],
    ["a file that is not UTF-8", Buffer.from([0xff, 0xfe, 0x31]), "text/vtt", 400, "CAPTIONS_INVALID", /UTF-8/],
    ["another format", "hello", "text/plain", 415, "UNSUPPORTED_MEDIA_TYPE", /./],
    ["an oversized file", Buffer.alloc(3 * 1024 * 1024, 0x41), "text/vtt", 413, "BODY_TOO_LARGE", /./],
  ] as const)("refuses %s", async (_name, body, type, status, code, message) => {
    const res = await postCaption("language=de", body, type);
    expect(res.status).toBe(status);
    const error = ((await res.json()) as { error: { code: string; message: string } }).error;
    expect(error.code).toBe(code);
    expect(error.message).toMatch(message);
    const list = (await (await fetch(`${base}/api/videos/${videoId}/captions`)).json()) as CaptionTrackList;
    expect(list.items.map((t) => t.language)).toEqual(["en", "fr"]);
  });

  it("lets only the owner change tracks", async () => {
    expect((await postCaption("language=de", VTT, "text/vtt", {})).status).toBe(401);
    expect((await postCaption("language=de", VTT, "text/vtt", stranger.bearer)).status).toBe(403);
    const del = await fetch(`${base}/api/videos/${videoId}/captions/fr`, {
      method: "DELETE",
      headers: stranger.bearer,
    });
    expect(del.status).toBe(403);
    expect((await postCaption("language=de", VTT, "text/vtt", owner.bearer, crypto.randomUUID())).status).toBe(404);
    expect((await postCaption("language=not a tag", VTT, "text/vtt")).status).toBe(400);
  });

  it("answers 404 when the video's media playlist is missing from storage", async () => {
    const catalog = runtime?.catalog;
    if (!catalog) throw new Error("no runtime");
    const bare = await makeQueuedVideo(catalog, { title: "No files", ownerId: owner.id });
    await catalog.transcodes.applyReady(readyEvent(bare, 1));
    const res = await postCaption("language=en", VTT, "text/vtt", owner.bearer, bare);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("MEDIA_NOT_FOUND");
    expect((await getVideo(base, bare)).captions).toEqual([]);
  });

  it("deletes a track: gone from the list, the master and storage", async () => {
    const track = (await waitForVideo(base, videoId, () => true)).captions.find((t) => t.language === "fr");
    const del = await fetch(`${base}/api/videos/${videoId}/captions/fr`, { method: "DELETE", headers: owner.bearer });
    expect(del.status).toBe(204);
    const again = await fetch(`${base}/api/videos/${videoId}/captions/fr`, { method: "DELETE", headers: owner.bearer });
    expect(again.status).toBe(404);
    expect((await fetch(`${base}${track?.url}`)).status).toBe(404);
    const master = await text(`${base}${video.playbackUrl}`);
    expect(master).not.toContain('LANGUAGE="fr"');
    expect(master).toContain('LANGUAGE="en"');
  });

  it("signs a PRIVATE video's tracks like the rest of its media", async () => {
    const setVisibility = (visibility: string) =>
      fetch(`${base}/api/videos/${videoId}`, {
        method: "PATCH",
        headers: { ...owner.bearer, "content-type": "application/json" },
        body: JSON.stringify({ visibility }),
      });
    onTestFinished(async () => {
      await setVisibility("PUBLIC");
      await expect.poll(async () => (await fetch(`${base}${video.playbackUrl}`)).status, { timeout: 5_000 }).toBe(200);
    });
    expect((await setVisibility("PRIVATE")).status).toBe(200);
    const res = await fetch(`${base}/api/videos/${videoId}`, { headers: owner.bearer });
    const secret = (await res.json()) as Video;
    expect(secret.playbackUrl).toMatch(/\/media\/s\/[^/]+\/videos\//);
    const track = secret.captions[0] as CaptionTrack;
    expect(track.url).toMatch(/\/media\/s\/[^/]+\/videos\//);
    expect(await text(`${base}${track.url}`)).toContain("New");
    const masterUrl = new URL(`${base}${secret.playbackUrl}`);
    const master = HLS.parse(await text(masterUrl)) as HLS.types.MasterPlaylist;
    const sub = master.variants[0]?.subtitles[0];
    const playlistUrl = new URL(sub?.uri as string, masterUrl);
    const playlist = HLS.parse(await text(playlistUrl)) as HLS.types.MediaPlaylist;
    expect(await text(new URL(playlist.segments[0]?.uri as string, playlistUrl))).toContain("WEBVTT");
    // Without the signed prefix: nothing (once the media route's short visibility cache agrees).
    const unsigned = new URL(track.url, base).pathname.replace(/\/media\/s\/[^/]+\//, "/media/");
    await expect.poll(async () => (await fetch(`${base}${video.playbackUrl}`)).status, { timeout: 5_000 }).toBe(404);
    expect((await fetch(`${base}${unsigned}`)).status).toBe(404);
  });
});

describe("chapters", () => {
  const put = (chapters: unknown, auth = owner.bearer) =>
    fetch(`${base}/api/videos/${videoId}/chapters`, {
      method: "PUT",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ chapters }),
    });

  it("sets them, lists them and serves them as a WebVTT chapters track", async () => {
    const res = await put([
      { title: "Opening", startTime: 0 },
      { title: "Second half", startTime: 3 },
    ]);
    expect(res.status).toBe(200);
    const v = await waitForVideo(base, videoId, () => true);
    expect(v.chapters).toEqual([
      { title: "Opening", startTime: 0 },
      { title: "Second half", startTime: 3 },
    ]);
    expect(v.chaptersVttUrl).toMatch(new RegExp(`/media/videos/${videoId}/chapters\\.vtt\\?v=`));
    const vtt = await text(`${base}${v.chaptersVttUrl}`);
    expect(vtt).toMatch(
      /^WEBVTT\n\n1\n00:00:00\.000 --> 00:00:03\.000\nOpening\n\n2\n00:00:03\.000 --> 00:00:0\d\.\d{3}\nSecond half\n$/,
    );
  });

  it.each([
    [
      "unsorted",
      [
        { title: "B", startTime: 3 },
        { title: "A", startTime: 1 },
      ],
      /chapters\[1\]/,
    ],
    [
      "past the end",
      [
        { title: "A", startTime: 0 },
        { title: "B", startTime: 60 },
      ],
      /past the end/,
    ],
  ])("refuses chapters %s", async (_name, chapters, message) => {
    const res = await put(chapters);
    expect(res.status).toBe(400);
    const error = ((await res.json()) as { error: { code: string; message: string } }).error;
    expect(error.code).toBe("CHAPTERS_INVALID");
    expect(error.message).toMatch(message);
  });

  it("only from the owner; an empty list removes them", async () => {
    expect((await put([], stranger.bearer)).status).toBe(403);
    expect((await put([])).status).toBe(200);
    const v = await waitForVideo(base, videoId, () => true);
    expect(v.chapters).toEqual([]);
    expect(v.chaptersVttUrl).toBeNull();
    expect((await fetch(`${base}/media/videos/${videoId}/chapters.vtt`)).status).toBe(404);
  });

  it("keeps the source's own chapters from the ready event, unless the owner set some first", async () => {
    const catalog = runtime?.catalog;
    if (!catalog) throw new Error("no runtime");
    const fromSource = await makeQueuedVideo(catalog, { title: "Chaptered source", ownerId: owner.id });
    await catalog.transcodes.applyReady({
      ...readyEvent(fromSource, 1),
      chapters: [
        { title: "Opening", startTime: 0 },
        { title: "Credits", startTime: 2 },
        { title: "Past the end", startTime: 3 },
      ],
    });
    expect((await getVideo(base, fromSource)).chapters).toEqual([
      { title: "Opening", startTime: 0 },
      { title: "Credits", startTime: 2 },
    ]);
    const ownersFirst = await makeQueuedVideo(catalog, { title: "Owner's chapters", ownerId: owner.id });
    await catalog.edits.updateList(ownersFirst, "chapters", () => [{ title: "Mine", startTime: 0 }]);
    await catalog.transcodes.applyReady({
      ...readyEvent(ownersFirst, 1),
      chapters: [{ title: "Source", startTime: 1 }],
    });
    expect((await getVideo(base, ownersFirst)).chapters).toEqual([{ title: "Mine", startTime: 0 }]);
  });
});

describe("images at any time", () => {
  const thumb = (query: string, format = "jpg") =>
    fetch(`${base}/media/videos/${videoId}/thumbnail.${format}?${query}`);
  const probeSize = (bytes: Buffer): string =>
    execFileSync(
      bin.ffprobe,
      ["-v", "error", "-show_entries", "stream=width,height", "-of", "csv=p=0", "-i", "pipe:0"],
      {
        input: bytes,
      },
    )
      .toString()
      .trim();

  it("makes frames at three times, of the requested size, that differ", async () => {
    const images: Buffer[] = [];
    for (const time of [0.5, 2.5, 4.5]) {
      const res = await thumb(`time=${time}&width=160&height=90&fit=crop`);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("image/jpeg");
      const bytes = Buffer.from(await res.arrayBuffer());
      expect(probeSize(bytes)).toBe("160,90");
      images.push(bytes);
    }
    expect(new Set(images.map((b) => b.toString("base64"))).size).toBe(3);
    const webp = await thumb("time=1&width=120", "webp");
    expect(webp.status).toBe(200);
    expect(webp.headers.get("content-type")).toBe("image/webp");
    expect(probeSize(Buffer.from(await webp.arrayBuffer()))).toBe("120,68");
  });

  it("stores one object per parameter set, once for concurrent identical requests", async () => {
    const storage = runtime?.storage;
    if (!storage) throw new Error("no runtime");
    const responses = await Promise.all(Array.from({ length: 6 }, () => thumb("time=3.01&width=240")));
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
    // 3.01 and 3.04 round to the same time: the same object.
    expect((await thumb("time=3.04&width=240")).status).toBe(200);
    const images = (await storage.list(`videos/${videoId}/images/`)).map((o) => o.key.split("/").pop());
    expect(images.filter((k) => k?.startsWith("t3.0-240x"))).toEqual(["t3.0-240xauto-preserve.jpg"]);
    expect(images).toHaveLength(new Set(images).size);
  });

  it.each([
    ["width=123", /width must be one of/],
    ["time=60", /time must be/],
    ["width=160&fit=crop", /needs both width and height/],
    ["fit=stretch", /fit must be/],
    ["time=abc", /time must be/],
  ])("refuses %s", async (query, message) => {
    const res = await thumb(query);
    expect(res.status).toBe(400);
    const error = ((await res.json()) as { error: { code: string; message: string } }).error;
    expect(error.code).toBe("VALIDATION_FAILED");
    expect(error.message).toMatch(message);
  });
});

/** The canvas size and frame count of an animated WebP, read from its RIFF chunks (VP8X, ANMF). */
function animatedWebp(bytes: Buffer): { width: number; height: number; frames: number; loops: number } {
  expect(bytes.toString("latin1", 0, 4)).toBe("RIFF");
  expect(bytes.toString("latin1", 8, 12)).toBe("WEBP");
  let width = 0;
  let height = 0;
  let frames = 0;
  let loops = -1;
  for (let at = 12; at + 8 <= bytes.length; ) {
    const fourcc = bytes.toString("latin1", at, at + 4);
    const size = bytes.readUInt32LE(at + 4);
    const data = at + 8;
    if (fourcc === "VP8X") {
      width = bytes.readUIntLE(data + 4, 3) + 1;
      height = bytes.readUIntLE(data + 7, 3) + 1;
    } else if (fourcc === "ANIM") loops = bytes.readUInt16LE(data + 4);
    else if (fourcc === "ANMF") frames++;
    at = data + size + (size % 2);
  }
  return { width, height, frames, loops };
}

describe("animated previews", () => {
  const animated = (query: string, prefix = "/media") =>
    fetch(`${base}${prefix}/videos/${videoId}/animated.webp?${query}`);

  it("makes a looping WebP of the span at the frame rate and width asked, different per span", async () => {
    const res = await animated("start=1&end=3&fps=10&width=160");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/webp");
    const first = Buffer.from(await res.arrayBuffer());
    expect(animatedWebp(first)).toEqual({ width: 160, height: 90, frames: 20, loops: 0 });
    // Spanning segments: 2.5 s to 5.5 s (the clip's segments are 2 s or shorter).
    const later = Buffer.from(await (await animated("start=2.5&end=5.5&fps=5&width=160")).arrayBuffer());
    expect(animatedWebp(later)).toMatchObject({ width: 160, frames: 15 });
    expect(later.equals(first)).toBe(false);
    // The defaults: 5 s from 0 (or to the end) at 15 fps, 320 wide.
    const defaults = animatedWebp(Buffer.from(await (await animated("")).arrayBuffer()));
    expect(defaults).toMatchObject({ width: 320, height: 180, frames: 75 });
  });

  it("stores one object per parameter set, once for concurrent identical requests", async () => {
    const storage = runtime?.storage;
    if (!storage) throw new Error("no runtime");
    const responses = await Promise.all(Array.from({ length: 4 }, () => animated("start=0.5&end=1.5&fps=12&width=90")));
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    // 0.52 rounds to 0.5: the same object.
    expect((await animated("start=0.52&end=1.5&fps=12&width=90")).status).toBe(200);
    const images = (await storage.list(`videos/${videoId}/images/`)).map((o) => o.key.split("/").pop());
    expect(images.filter((k) => k?.startsWith("a0.5-"))).toEqual(["a0.5-1.5-12fps-90xauto.webp"]);
  });

  it.each([
    ["start=0&end=10.5", /end must be after start and at most/],
    ["start=2&end=1", /end must be after start/],
    ["fps=7", /fps must be one of/],
    ["fps=60", /fps must be/],
    ["width=100", /width must be one of/],
    ["width=1280", /width must be/],
    ["start=abc", /start must be/],
  ])("refuses %s", async (query, message) => {
    const res = await animated(query);
    expect(res.status).toBe(400);
    const error = ((await res.json()) as { error: { code: string; message: string } }).error;
    expect(error.code).toBe("VALIDATION_FAILED");
    expect(error.message).toMatch(message);
  });

  it("serves a PRIVATE video's previews and frames only under its signed prefix", async () => {
    const setVisibility = (visibility: string) =>
      fetch(`${base}/api/videos/${videoId}`, {
        method: "PATCH",
        headers: { ...owner.bearer, "content-type": "application/json" },
        body: JSON.stringify({ visibility }),
      });
    onTestFinished(async () => {
      await setVisibility("PUBLIC");
      await expect.poll(async () => (await animated("start=0&end=1")).status, { timeout: 5_000 }).toBe(200);
    });
    expect((await setVisibility("PRIVATE")).status).toBe(200);
    const secret = (await (await fetch(`${base}/api/videos/${videoId}`, { headers: owner.bearer })).json()) as Video;
    expect(secret.thumbnailUrl).toMatch(new RegExp(`/media/s/[^/]+/videos/${videoId}/thumbnail\\.jpg$`));
    const signed = new URL(secret.thumbnailUrl as string, base);
    const preview = new URL(signed.pathname.replace(/thumbnail\.jpg$/, "animated.webp"), base);
    preview.search = "start=0&end=1&fps=5&width=90";
    const res = await fetch(preview);
    expect(res.status).toBe(200);
    expect(animatedWebp(Buffer.from(await res.arrayBuffer()))).toMatchObject({ width: 90, frames: 5 });
    signed.search = "time=1&width=90";
    expect((await fetch(signed)).status).toBe(200);
    // Without the signature (once the media route's short visibility cache agrees), or a forged one.
    await expect.poll(async () => (await animated("start=0&end=1")).status, { timeout: 5_000 }).toBe(404);
    expect((await fetch(`${base}/media/videos/${videoId}/thumbnail.jpg?time=1`)).status).toBe(404);
    const forged = new URL(preview);
    forged.pathname = forged.pathname.replace(/\/s\/[^/]+\//, "/s/forged/");
    const refused = await fetch(forged);
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("MEDIA_URL_INVALID");
  });
});

describe("choosing the poster", () => {
  const patch = (body: unknown, auth = owner.bearer, id = videoId) =>
    fetch(`${base}/api/videos/${id}`, {
      method: "PATCH",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  const bytes = async (url: string) => {
    const res = await fetch(new URL(url, base));
    expect(res.status, url).toBe(200);
    return Buffer.from(await res.arrayBuffer());
  };

  it("makes the frame at the chosen time the poster everywhere, and goes back to the transcoder's", async () => {
    const before = await getVideo(base, videoId);
    expect(before.posterTime).toBeNull();
    const original = await bytes(before.posterUrl as string);
    const res = await patch({ posterTime: 4.54 });
    expect(res.status).toBe(200);
    const chosen = (await res.json()) as Video;
    expect(chosen.posterTime).toBe(4.5);
    expect(chosen.posterUrl).toBe(`/media/videos/${videoId}/poster-t4.5.jpg`);
    // The top rung's frame at 4.5 s at its own size: the same image the thumbnail route makes.
    const poster = await bytes(chosen.posterUrl as string);
    expect(poster.equals(original)).toBe(false);
    expect(poster.equals(await bytes(`/media/videos/${videoId}/thumbnail.jpg?time=4.5&width=320`))).toBe(true);
    // The video's JSON for anyone, and oEmbed (as the watch page's og:image), name the new poster.
    expect((await getVideo(base, videoId)).posterUrl).toBe(chosen.posterUrl);
    const oembed = (await (
      await fetch(`${base}/api/oembed?url=${encodeURIComponent(`${base}/watch/${videoId}`)}`)
    ).json()) as { thumbnail_url: string };
    expect(oembed.thumbnail_url).toBe(`${base}${chosen.posterUrl}`);

    // Another choice replaces the first, whose file goes.
    const again = (await (await patch({ posterTime: 1 })).json()) as Video;
    expect(again.posterUrl).toBe(`/media/videos/${videoId}/poster-t1.0.jpg`);
    expect((await fetch(`${base}${chosen.posterUrl}`)).status).toBe(404);
    const reset = (await (await patch({ posterTime: null })).json()) as Video;
    expect(reset).toMatchObject({ posterTime: null, posterUrl: before.posterUrl });
    expect((await bytes(reset.posterUrl as string)).equals(original)).toBe(true);
    const files = (await runtime?.storage.list(`videos/${videoId}/`))?.map((o) => o.key.split("/").pop());
    expect(files?.filter((f) => f?.startsWith("poster"))).toEqual(["poster.jpg"]);
  });

  it("refuses a time past the end, a video not READY and anyone but the owner", async () => {
    const late = await patch({ posterTime: 6 });
    expect(late.status).toBe(400);
    expect(((await late.json()) as { error: { code: string; message: string } }).error).toMatchObject({
      code: "VALIDATION_FAILED",
      message: expect.stringMatching(/posterTime must be under the video's duration/),
    });
    expect((await patch({ posterTime: -1 })).status).toBe(400);
    expect((await patch({ posterTime: 1 }, stranger.bearer)).status).toBe(403);
    const catalog = runtime?.catalog;
    if (!catalog) throw new Error("no runtime");
    const queued = await makeQueuedVideo(catalog, { title: "Not yet", ownerId: owner.id });
    const early = await patch({ posterTime: 1 }, owner.bearer, queued);
    expect(early.status).toBe(409);
    expect((await getVideo(base, videoId)).posterTime).toBeNull();
  });
});

describe("downloads", () => {
  const download = (auth: Record<string, string> = {}, query = "") =>
    fetch(`${base}/api/videos/${videoId}/download${query}`, { headers: auth });
  /** Per-packet hashes of one stream of a media file (ffprobe), in order. */
  const packetHashes = (file: string, stream: string): string[] =>
    execFileSync(bin.ffprobe, [
      ...["-v", "error", "-select_streams", stream, "-show_data_hash", "sha256"],
      ...["-show_entries", "packet=data_hash", "-of", "csv=p=0", file],
    ])
      .toString()
      .trim()
      .split("\n");

  it("gives the owner an MP4 of the top rung, the same packets remuxed, with ranges", async () => {
    expect((await download()).status).toBe(403);
    const res = await download(owner.bearer);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("video/mp4");
    expect(res.headers.get("content-disposition")).toBe(
      `attachment; filename="Captioned.mp4"; filename*=UTF-8''Captioned.mp4`,
    );
    const bytes = Buffer.from(await res.arrayBuffer());
    const file = path.join(dataDir, "download.mp4");
    await fs.writeFile(file, bytes);
    // +faststart: the index (moov) before the media data.
    expect(bytes.indexOf("moov")).toBeLessThan(bytes.indexOf("mdat"));
    // The top rung's own fMP4 (its init section and segments, as a player fetches them).
    const top = (await getVideo(base, videoId)).renditions[0];
    const playlistUrl = `${base}/media/videos/${videoId}/hls/${top?.name}/index.m3u8`;
    const playlist = await text(playlistUrl);
    const parts = playlist
      .split("\n")
      .flatMap((l) => /^#EXT-X-MAP:URI="([^"]+)"/.exec(l)?.slice(1) ?? (l && !l.startsWith("#") ? [l] : []));
    const rung = Buffer.concat(
      await Promise.all(
        parts.map(async (p) => Buffer.from(await (await fetch(new URL(p, playlistUrl))).arrayBuffer())),
      ),
    );
    const rungFile = path.join(dataDir, "rung.mp4");
    await fs.writeFile(rungFile, rung);
    const hashes = packetHashes(file, "v:0");
    expect(hashes.length).toBeGreaterThan(100);
    expect(hashes).toEqual(packetHashes(rungFile, "v:0"));
    expect(packetHashes(file, "a:0").length).toBeGreaterThan(100);
    // It plays: every frame decodes.
    execFileSync(bin.ffmpeg, ["-v", "error", "-xerror", "-i", file, "-f", "null", "-"]);

    const ranged = await download({ ...owner.bearer, range: "bytes=100-199" });
    expect(ranged.status).toBe(206);
    expect(ranged.headers.get("content-range")).toBe(`bytes 100-199/${bytes.length}`);
    expect(Buffer.from(await ranged.arrayBuffer())).toEqual(bytes.subarray(100, 200));
    expect((await download(owner.bearer, "?quality=4320p")).status).toBe(404);
  });

  it("lets others download once the owner allows it, made once", async () => {
    expect((await download(stranger.bearer)).status).toBe(403);
    const patch = await fetch(`${base}/api/videos/${videoId}`, {
      method: "PATCH",
      headers: { ...owner.bearer, "content-type": "application/json" },
      body: JSON.stringify({ downloads: true }),
    });
    expect(((await patch.json()) as Video).downloads).toBe(true);
    const responses = await Promise.all([download(), download(stranger.bearer)]);
    expect(responses.map((r) => r.status)).toEqual([200, 200]);
    const stored = await runtime?.storage.list(`videos/${videoId}/downloads/`);
    expect(stored?.map((o) => o.key.split("/").pop())).toEqual(["180p.mp4"]);
  });
});
