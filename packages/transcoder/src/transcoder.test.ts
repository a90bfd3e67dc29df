import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import {
  type Bus,
  createLogger,
  type EventPayloads,
  keys,
  LocalStorage,
  loadConfig,
  MemoryJobStore,
  QueueBus,
} from "@reelkit/core";
import HLS from "hls-parser";

import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { HlsAuditStorage } from "../../../test/hls-audit.js";
import { resolveBinaries } from "./probe.js";
import { createTranscoder } from "./transcoder.js";

const bin = resolveBinaries({ ffmpegPath: null, ffprobePath: null });

function makeClip(file: string, opts: { audio: boolean; video?: boolean; seconds?: number }): void {
  const s = String(opts.seconds ?? 4);
  const inputs = [
    ...(opts.video === false ? [] : ["-f", "lavfi", "-i", `testsrc=size=320x240:rate=25:duration=${s}`]),
    ...(opts.audio ? ["-f", "lavfi", "-i", `sine=frequency=440:duration=${s}`] : []),
  ];
  const codecs = [
    ...(opts.video === false ? [] : ["-c:v", "libx264", "-pix_fmt", "yuv420p"]),
    ...(opts.audio ? ["-c:a", "aac"] : []),
  ];
  execFileSync(bin.ffmpeg, ["-v", "error", "-y", ...inputs, ...codecs, "-f", "mp4", file]);
}

describe("transcoder (real ffmpeg, QueueBus on the memory store, LocalStorage)", () => {
  let dir: string;
  let storage: LocalStorage;
  let bus: Bus;
  const events: { topic: string; payload: unknown }[] = [];
  /** Stored playlists naming a segment that is not stored, seen at any event: must stay empty. */
  const dangling: string[] = [];
  /** What a player could fetch at the moment each video became playable. */
  const atPlayable = new Map<string, { master: string; variant: string; firstSegment: number; ready: boolean }>();
  async function checkPlaylists(videoId: string): Promise<void> {
    for (const o of await storage.list(`videos/${videoId}/hls/`)) {
      if (!o.key.endsWith("/index.m3u8")) continue;
      const text = await fs.readFile(storage.localPath(o.key) as string, "utf8").catch(() => "");
      const base = o.key.slice(0, o.key.lastIndexOf("/") + 1);
      for (const line of text.split("\n"))
        if (line && !line.startsWith("#") && !(await storage.stat(base + line))) dangling.push(base + line);
    }
  }
  const of = <T extends keyof EventPayloads>(topic: T, videoId: string) =>
    events
      .filter((e) => e.topic === topic && (e.payload as { videoId: string }).videoId === videoId)
      .map((e) => e.payload as EventPayloads[T]);

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "reelkit-transcoder-test-"));
    storage = new LocalStorage(path.join(dir, "media"));
    // The transcoder's own QueueBus; every event is also observed as it is published, so the
    // snapshots below show storage at that very moment.
    const queue = new QueueBus({ store: new MemoryJobStore(), pollMs: 20 });
    const observe = async (topic: keyof EventPayloads, p: EventPayloads[keyof EventPayloads]) => {
      if (topic === "video.transcode.progress") await checkPlaylists(p.videoId);
      if (topic === "video.transcode.playable") {
        const playable = p as EventPayloads["video.transcode.playable"];
        await checkPlaylists(p.videoId);
        const read = (key: string) => fs.readFile(storage.localPath(key) as string, "utf8");
        const variant = await read(playable.renditions[0]?.playlistKey as string);
        const first = variant.split("\n").find((l) => l.startsWith("seg-")) as string;
        const dir = path.dirname(playable.renditions[0]?.playlistKey as string);
        atPlayable.set(p.videoId, {
          master: await read(playable.masterKey),
          variant,
          firstSegment: (await storage.stat(`${dir}/${first}`))?.size ?? 0,
          ready: events.some(
            (e) => e.topic === "video.transcode.ready" && (e.payload as { videoId: string }).videoId === p.videoId,
          ),
        });
      }
      events.push({ topic, payload: p });
    };
    bus = {
      publish: async (topic, payload, key) => {
        await observe(topic, payload);
        await queue.publish(topic, payload, key);
      },
      subscribe: (group, handlers, options) => queue.subscribe(group, handlers, options),
      unsubscribe: (group) => queue.unsubscribe(group),
      ping: () => queue.ping(),
      close: () => queue.close(),
    };
    const config = loadConfig({ REELKIT_DATA_DIR: dir, REELKIT_RUNGS: "180,120" } as NodeJS.ProcessEnv);
    await createTranscoder({ config, storage, bus, logger: createLogger({ logLevel: "silent" }) }).start();
  });
  afterAll(async () => {
    await bus.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  const outcomes = (id: string) => of("video.transcode.ready", id).length + of("video.transcode.failed", id).length;

  /** Publishes `video.uploaded` and waits for its outcome (ready or failed). */
  async function deliver(videoId: string): Promise<void> {
    const before = outcomes(videoId);
    await bus.publish("video.uploaded", { videoId, attempt: 1, sourceKey: keys.source(videoId) }, videoId);
    await vi.waitFor(() => expect(outcomes(videoId)).toBeGreaterThan(before), { timeout: 60_000, interval: 50 });
  }

  async function upload(videoId: string, body: Buffer | string): Promise<void> {
    await storage.put(keys.source(videoId), body);
    await deliver(videoId);
  }

  it("turns a clip into an HLS ladder with aligned keyframes, poster and storyboard", async () => {
    const clip = path.join(dir, "clip.mp4");
    makeClip(clip, { audio: true });
    await upload("v1", await fs.readFile(clip));

    expect(of("video.transcode.failed", "v1")).toEqual([]);
    const [ready] = of("video.transcode.ready", "v1");
    expect(ready).toMatchObject({ videoId: "v1", width: 320, height: 240, hasAudio: true, frameRate: 25 });
    expect(ready?.durationSec).toBeCloseTo(4, 0);
    const percents = of("video.transcode.progress", "v1").map((p) => p.percent);
    expect(percents.length).toBeGreaterThan(2);
    expect([...percents].sort((a, b) => a - b)).toEqual(percents);

    const read = async (key: string) => fs.readFile(storage.localPath(key), "utf8");
    const master = HLS.parse(await read(keys.master("v1"))) as HLS.types.MasterPlaylist;
    expect(master.variants.map((v) => v.resolution)).toEqual([
      { width: 240, height: 180 },
      { width: 160, height: 120 },
    ]);
    expect(master.variants[0]?.codecs).toMatch(/^avc1\.6400[0-9a-f]{2},mp4a\.40\.2$/);
    expect(master.variants[0]?.bandwidth).toBe(ready?.renditions[0]?.bandwidth);
    expect(master.variants[0]?.bandwidth).toBeGreaterThan(0);
    expect(master.variants[0]?.audio[0]?.uri).toBe("audio/index.m3u8");

    for (const rendition of ["180p", "120p", "audio"]) {
      const media = HLS.parse(await read(`videos/v1/hls/${rendition}/index.m3u8`)) as HLS.types.MediaPlaylist;
      expect(media.playlistType).toBe("EVENT");
      expect(media.endlist).toBe(true);
      expect(media.segments.length).toBeGreaterThan(0);
      for (const seg of media.segments)
        expect((await storage.stat(`videos/v1/hls/${rendition}/${seg.uri}`))?.size).toBeGreaterThan(0);
      expect(await storage.stat(`videos/v1/hls/${rendition}/init.mp4`)).not.toBeNull();
    }

    // Keyframes at 0, 1 s (a short first segment), then every 2 s (25, 50 frames at 25 fps),
    // at the same frames in every rung.
    const keyframes = async (rung: string) => {
      const rdir = path.dirname(storage.localPath(`videos/v1/hls/${rung}/init.mp4`));
      const segs = (await fs.readdir(rdir)).filter((f) => f.endsWith(".m4s")).sort();
      const parts = [await fs.readFile(path.join(rdir, "init.mp4"))];
      for (const s of segs) parts.push(await fs.readFile(path.join(rdir, s)));
      const joined = path.join(dir, `joined-${rung}.mp4`);
      await fs.writeFile(joined, Buffer.concat(parts));
      const args = [
        "-v",
        "error",
        "-select_streams",
        "v:0",
        "-show_entries",
        "frame=key_frame",
        "-of",
        "csv=p=0",
        joined,
      ];
      const flags = execFileSync(bin.ffprobe, args, { encoding: "utf8" }).trim().split("\n");
      return flags.flatMap((l, i) => (l.trim().startsWith("1") ? [i] : []));
    };
    const k180 = await keyframes("180p");
    expect(k180[0]).toBe(0);
    expect(k180).toHaveLength(3);
    expect(Math.abs((k180[1] ?? 0) - 25)).toBeLessThanOrEqual(1);
    expect(Math.abs((k180[2] ?? 0) - 50)).toBeLessThanOrEqual(1);
    expect(await keyframes("120p")).toEqual(k180);

    expect((await storage.stat(keys.poster("v1")))?.size).toBeGreaterThan(0);
    expect((await storage.stat(keys.storyboard("v1")))?.size).toBeGreaterThan(0);
    const vtt = await read(keys.storyboardVtt("v1"));
    expect(vtt.startsWith("WEBVTT")).toBe(true);
    expect(vtt).toContain("storyboard.jpg#xywh=0,0,160,120");

    // Redelivery: same keys, another ready event, nothing new.
    const before = (await storage.list("videos/v1/")).map((o) => o.key).sort();
    await deliver("v1");
    expect(of("video.transcode.ready", "v1")).toHaveLength(2);
    expect((await storage.list("videos/v1/")).map((o) => o.key).sort()).toEqual(before);
  }, 60_000);

  /** A rendition's init section and segments joined into one fMP4 file that ffprobe reads. */
  async function joinRendition(videoId: string, rendition: string): Promise<string> {
    const playlist = await fs.readFile(storage.localPath(`videos/${videoId}/hls/${rendition}/index.m3u8`), "utf8");
    const rdir = path.dirname(storage.localPath(`videos/${videoId}/hls/${rendition}/init.mp4`));
    const segs = playlist.split("\n").filter((l) => l.startsWith("seg-"));
    const parts = [await fs.readFile(path.join(rdir, "init.mp4"))];
    for (const seg of segs) parts.push(await fs.readFile(path.join(rdir, seg)));
    const joined = path.join(dir, `joined-${videoId}-${rendition}.mp4`);
    await fs.writeFile(joined, Buffer.concat(parts));
    return joined;
  }
  const probeLines = (file: string, ...args: string[]) =>
    execFileSync(bin.ffprobe, ["-v", "error", "-select_streams", "v:0", ...args, "-of", "csv=p=0", file], {
      encoding: "utf8",
    })
      .trim()
      .split("\n");
  /** Keyframe times from the first one (an encoder's B-frame delay may shift a whole stream). */
  const keyframeTimes = (file: string) => {
    const times = probeLines(file, "-show_entries", "packet=pts_time,flags")
      .filter((l) => l.includes("K"))
      .map((l) => Number(l.split(",")[0]))
      .sort((a, b) => a - b);
    return times.map((t) => Math.round((t - (times[0] ?? 0)) * 1000) / 1000);
  };

  it("passes a streamable H.264 source through as the top rung, keyed lower rungs, playable before READY", async () => {
    // Like a camera file: High profile, B-frames, CABAC, irregular keyframes (every 25, then
    // 20 frames: 1 s and 0.8 s at 25 fps), AAC, at exactly the top rung's size (320x180).
    const clip = path.join(dir, "camera.mp4");
    execFileSync(bin.ffmpeg, [
      ...["-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25:duration=7"],
      ...["-f", "lavfi", "-i", "sine=frequency=500:duration=7"],
      ...["-c:v", "libx264", "-preset", "veryfast", "-profile:v", "high", "-bf", "3", "-pix_fmt", "yuv420p"],
      ...["-force_key_frames", "0,1,1.8,2.8,3.6,4.6,5.4,6.4", "-g", "250", "-sc_threshold", "0"],
      ...["-c:a", "aac", clip],
    ]);
    await upload("pass", await fs.readFile(clip));
    expect(of("video.transcode.failed", "pass")).toEqual([]);
    const [playable, complete] = of("video.transcode.playable", "pass");
    const [ready] = of("video.transcode.ready", "pass");
    expect(playable).toMatchObject({ passthrough: true, width: 320, height: 180, hasAudio: true });
    // Playable as soon as the copied rung and the audio exist; a new master names the lower
    // rungs once the ladder phase has their first segments.
    expect(playable?.renditions.map((r) => r.name)).toEqual(["180p"]);
    expect(complete?.renditions.map((r) => r.name)).toEqual(["180p", "120p"]);
    expect(playable?.renditions[0]?.codecs).toBe("avc1.64000c,mp4a.40.2");
    expect(ready?.renditions.map((r) => `${r.name}:${r.width}x${r.height}`)).toEqual(["180p:320x180", "120p:214x120"]);

    // At that moment the master, its first variant and the variant's first segment were stored,
    // the playlists were still growing, and READY had not been sent.
    const seen = atPlayable.get("pass");
    expect(seen?.ready).toBe(false);
    expect(seen?.master).toContain("#EXT-X-START:TIME-OFFSET=0");
    expect(seen?.variant).toContain("#EXT-X-PLAYLIST-TYPE:EVENT");
    expect(seen?.firstSegment).toBeGreaterThan(0);
    expect(dangling).toEqual([]);

    // The top rung is the source's bitstream, packet for packet.
    const hashes = (file: string) => probeLines(file, "-show_data_hash", "MD5", "-show_entries", "packet=data_hash");
    const top = await joinRendition("pass", "180p");
    expect(hashes(top)).toEqual(hashes(clip));
    // Keyframes of the encoded rung fall on the source's; both rungs are cut at the same times.
    const sourceKeys = keyframeTimes(clip);
    expect(sourceKeys).toHaveLength(8);
    expect(keyframeTimes(await joinRendition("pass", "120p"))).toEqual(sourceKeys);
    expect(keyframeTimes(top)).toEqual(sourceKeys);
    const durations = async (rendition: string) => {
      const media = HLS.parse(
        await fs.readFile(storage.localPath(`videos/pass/hls/${rendition}/index.m3u8`), "utf8"),
      ) as HLS.types.MediaPlaylist;
      expect(media.endlist).toBe(true);
      return media.segments.map((seg) => seg.duration);
    };
    // The n-th segment ends at the first keyframe at or past n seconds: 1, 2.8, 3.6, 4.6, 5.4, 6.4.
    expect(await durations("180p")).toEqual([1, 1.8, 0.8, 1, 0.8, 1, 0.6]);
    expect(await durations("120p")).toEqual(await durations("180p"));
  }, 60_000);

  it("plans a rotated phone clip from its display size", async () => {
    // Encode, then stream-copy with a rotate tag: ffmpeg 5 only writes the display matrix on copy.
    const plain = path.join(dir, "plain.mp4");
    const clip = path.join(dir, "rotated.mp4");
    execFileSync(bin.ffmpeg, [
      "-v",
      "error",
      "-y",
      "-f",
      "lavfi",
      "-i",
      "testsrc=size=320x240:rate=25:duration=2",
      "-c:v",
      "libx264",
      "-pix_fmt",
      "yuv420p",
      plain,
    ]);
    execFileSync(bin.ffmpeg, ["-v", "error", "-y", "-i", plain, "-c", "copy", "-metadata:s:v:0", "rotate=90", clip]);
    await upload("rot", await fs.readFile(clip));
    const [ready] = of("video.transcode.ready", "rot");
    expect(ready).toMatchObject({ width: 240, height: 320, hasAudio: false });
    expect(ready?.renditions.map((r) => `${r.name}:${r.width}x${r.height}`)).toEqual(["180p:180x240", "120p:120x160"]);
    const master = await fs.readFile(storage.localPath(keys.master("rot")), "utf8");
    expect(master).not.toContain("EXT-X-MEDIA");
    expect(await storage.stat("videos/rot/hls/audio/index.m3u8")).toBeNull();
  }, 30_000);

  it("keeps the source's own chapters (MP4 chapter metadata) in the ready event", async () => {
    const plain = path.join(dir, "nochapters.mp4");
    const clip = path.join(dir, "chapters.mp4");
    const meta = path.join(dir, "chapters.txt");
    makeClip(plain, { audio: false, seconds: 3 });
    await fs.writeFile(
      meta,
      ";FFMETADATA1\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=1500\ntitle=Opening\n" +
        "[CHAPTER]\nTIMEBASE=1/1000\nSTART=1500\nEND=3000\ntitle=The end\n",
    );
    execFileSync(bin.ffmpeg, ["-v", "error", "-y", "-i", plain, "-i", meta, "-map_chapters", "1", "-c", "copy", clip]);
    await upload("chap", await fs.readFile(clip));
    const [ready] = of("video.transcode.ready", "chap");
    expect(ready?.chapters).toEqual([
      { title: "Opening", startTime: 0 },
      { title: "The end", startTime: 1.5 },
    ]);
    // A source without chapters announces none.
    await upload("nochap", await fs.readFile(plain));
    expect(of("video.transcode.ready", "nochap")[0]).not.toHaveProperty("chapters");
  }, 60_000);

  it("turns a phone-style HEVC Main10 .mov (rotated, 48 kHz stereo) into an 8-bit H.264 ladder", async () => {
    // What an iPhone records: HEVC 10-bit tagged hvc1 in QuickTime, with a display matrix and
    // 48 kHz AAC. Players need 8-bit H.264 + AAC-LC out, whatever came in.
    const plain = path.join(dir, "phone-plain.mov");
    const clip = path.join(dir, "phone.mov");
    execFileSync(bin.ffmpeg, [
      ...["-v", "error", "-y"],
      ...["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30:duration=3"],
      ...["-f", "lavfi", "-i", "sine=frequency=300:duration=3:sample_rate=48000"],
      ...["-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error"],
      ...["-pix_fmt", "yuv420p10le", "-tag:v", "hvc1", "-c:a", "aac", "-ac", "2", plain],
    ]);
    execFileSync(bin.ffmpeg, ["-v", "error", "-y", "-i", plain, "-c", "copy", "-metadata:s:v:0", "rotate=90", clip]);
    await upload("phone", await fs.readFile(clip));

    const [ready] = of("video.transcode.ready", "phone");
    expect(of("video.transcode.failed", "phone")).toEqual([]);
    // Not H.264: every rung is encoded, and the video was still playable before READY.
    expect(of("video.transcode.playable", "phone")[0]).toMatchObject({ passthrough: false, width: 240, height: 320 });
    expect(atPlayable.get("phone")?.ready).toBe(false);
    expect(atPlayable.get("phone")?.firstSegment).toBeGreaterThan(0);
    expect(ready).toMatchObject({ width: 240, height: 320, hasAudio: true });
    expect(ready?.renditions.map((r) => `${r.name}:${r.width}x${r.height}`)).toEqual(["180p:180x240", "120p:120x160"]);
    // An fMP4 segment decodes after its init section: probe the two joined.
    const rung = storage.localPath("videos/phone/hls/180p") as string;
    const first = (await fs.readdir(rung)).filter((f) => f.endsWith(".m4s")).sort()[0] as string;
    const joined = path.join(dir, "phone-180p.mp4");
    await fs.writeFile(
      joined,
      Buffer.concat([await fs.readFile(path.join(rung, "init.mp4")), await fs.readFile(path.join(rung, first))]),
    );
    const fields = "stream=codec_name,width,height,pix_fmt";
    const probe = execFileSync(
      bin.ffprobe,
      ["-v", "error", "-select_streams", "v:0", "-show_entries", fields, "-of", "csv=p=0", joined],
      { encoding: "utf8" },
    ).trim();
    expect(probe).toBe("h264,180,240,yuv420p");
    const master = await fs.readFile(storage.localPath(keys.master("phone")), "utf8");
    expect(master).toContain("TYPE=AUDIO");
  }, 60_000);

  it.each([
    ["random bytes", "rnd", () => Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 251)), "UNDECODABLE"],
    ["a zero-length file", "empty", () => Buffer.alloc(0), "EMPTY_SOURCE"],
  ] as const)(
    "publishes video.transcode.failed for %s",
    async (_name, id, body, code) => {
      await upload(id, body());
      const [failed] = of("video.transcode.failed", id);
      expect(failed?.code).toBe(code);
      expect(failed?.reason.length).toBeGreaterThan(10);
      // The owner reads this reason: it names no file of the server.
      expect(failed?.reason).not.toMatch(/[\\/]/);
      expect(of("video.transcode.ready", id)).toEqual([]);
    },
    30_000,
  );

  it("rejects audio-only and truncated files with a readable reason", async () => {
    const audioOnly = path.join(dir, "audio.mp4");
    makeClip(audioOnly, { audio: true, video: false });
    await upload("aud", await fs.readFile(audioOnly));
    expect(of("video.transcode.failed", "aud")[0]).toMatchObject({ code: "NO_VIDEO_STREAM" });
    expect(of("video.transcode.failed", "aud")[0]?.reason).toMatch(/no video stream/);

    const clip = await fs.readFile(path.join(dir, "clip.mp4"));
    await upload("trunc", clip.subarray(0, Math.floor(clip.length / 3)));
    const [failed] = of("video.transcode.failed", "trunc");
    expect(failed?.code).toMatch(/UNDECODABLE|NO_VIDEO_STREAM/);
    expect(of("video.transcode.ready", "trunc")).toEqual([]);
  }, 30_000);
});

describe("transcoder work directories", () => {
  it("removes those of crashed processes at start and keeps those of live ones", async () => {
    const root = await fs.mkdtemp(path.join(os.tmpdir(), "reelkit-workroot-test-"));
    try {
      // A pid that surely belongs to no process any more: one that has exited.
      const dead = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], {
        encoding: "utf8",
      }).stdout;
      const crashed = path.join(root, `reelkit-transcode-${dead}-abc123`);
      const live = path.join(root, `reelkit-transcode-${process.ppid}-def456`);
      const unrelated = path.join(root, "something-else");
      for (const d of [crashed, live, unrelated]) {
        await fs.mkdir(path.join(d, "hls", "720p"), { recursive: true });
        await fs.writeFile(path.join(d, "hls", "720p", "seg-0.m4s"), "partial");
      }
      const config = loadConfig({ REELKIT_DATA_DIR: root } as NodeJS.ProcessEnv);
      const transcoder = createTranscoder({
        config,
        storage: new LocalStorage(path.join(root, "media")),
        bus: new QueueBus({ store: new MemoryJobStore() }),
        logger: createLogger({ logLevel: "silent" }),
        workRoot: root,
      });
      await transcoder.start();
      await transcoder.stop();
      expect((await fs.readdir(root)).sort()).toEqual([path.basename(live), "something-else"].sort());
    } finally {
      await fs.rm(root, { recursive: true, force: true });
    }
  });
});

describe("a failed delivery's published playlists (real ffmpeg, audited storage)", () => {
  let dir: string;
  let storage: HlsAuditStorage;
  let bus: QueueBus;
  const events: { topic: string; videoId: string; code?: string }[] = [];
  const seen = (topic: string, videoId: string) => events.filter((e) => e.topic === topic && e.videoId === videoId);

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "reelkit-transcoder-fail-test-"));
    storage = new HlsAuditStorage(new LocalStorage(path.join(dir, "media")));
    bus = new QueueBus({ store: new MemoryJobStore(), pollMs: 20, backoffMs: 50, maxAttempts: 2 });
    const record = async (p: { videoId: string }, topic: string) => {
      events.push({ topic, videoId: p.videoId, code: (p as { code?: string }).code });
    };
    await bus.subscribe("observer", {
      "video.transcode.playable": (p) => record(p, "playable"),
      "video.transcode.ready": (p) => record(p, "ready"),
      "video.transcode.failed": (p) => record(p, "failed"),
    });
    const config = loadConfig({ REELKIT_DATA_DIR: dir, REELKIT_RUNGS: "180,120" } as NodeJS.ProcessEnv);
    await createTranscoder({ config, storage, bus, logger: createLogger({ logLevel: "silent" }) }).start();
    const clip = path.join(dir, "clip.mp4");
    makeClip(clip, { audio: true, seconds: 7 });
    for (const id of ["retried", "parked"]) await storage.put(keys.source(id), await fs.readFile(clip));
  });
  afterAll(async () => {
    await bus.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  async function run(videoId: string, outcome: "ready" | "failed"): Promise<void> {
    await bus.publish("video.uploaded", { videoId, attempt: 1, sourceKey: keys.source(videoId) }, videoId);
    await vi.waitFor(() => expect(seen(outcome, videoId)).toHaveLength(1), { timeout: 90_000, interval: 50 });
  }

  it("rebuilds the same playlists on the next delivery, never naming a missing segment", async () => {
    // Storage fails once, on a segment written after the video became playable.
    let failed = false;
    storage.failPut = (key) => {
      if (failed || !key.startsWith("videos/retried/hls/180p/seg-003")) return false;
      failed = true;
      return true;
    };
    await run("retried", "ready");
    storage.failPut = null;
    expect(storage.failedPuts).toEqual(["videos/retried/hls/180p/seg-003.m4s"]);
    // Playable in the failed delivery (master stored before the failure), then again and READY.
    expect(seen("playable", "retried").length).toBeGreaterThanOrEqual(2);
    expect(storage.violations).toEqual([]);
    for (const rendition of ["180p", "120p", "audio"]) {
      const text = await fs.readFile(storage.localPath(`videos/retried/hls/${rendition}/index.m3u8`) as string, "utf8");
      const media = HLS.parse(text) as HLS.types.MediaPlaylist;
      expect(media.endlist).toBe(true);
      expect(media.segments.reduce((s, seg) => s + seg.duration, 0)).toBeCloseTo(7, 0);
    }
  }, 120_000);

  it("removes the partial output of a job that ends FAILED: master, then playlists, then segments", async () => {
    // Every delivery fails after the first segments are listed (the master is stored by then).
    storage.failPut = (key) => key.startsWith("videos/parked/hls/180p/seg-002");
    await run("parked", "failed");
    storage.failPut = null;
    expect(storage.failedPuts.filter((k) => k.startsWith("videos/parked/"))).toHaveLength(2);
    expect(seen("playable", "parked").length).toBeGreaterThanOrEqual(1);
    expect(seen("failed", "parked")[0]?.code).toBe("TRANSCODE_ERROR");
    await vi.waitFor(async () => expect(await storage.list("videos/parked/hls/")).toEqual([]));
    expect(await storage.stat(keys.source("parked"))).not.toBeNull();
    expect(storage.violations).toEqual([]);
  }, 120_000);
});

describe("two phases (real ffmpeg, QueueBus on the memory store)", () => {
  let dir: string;
  let storage: LocalStorage;
  let queue: QueueBus;
  const events: { topic: string; videoId: string; at: number; names?: string[] }[] = [];
  const logger = createLogger({ logLevel: "silent" });
  const config = (dataDir: string) =>
    loadConfig({
      REELKIT_DATA_DIR: dataDir,
      REELKIT_RUNGS: "720,360,180",
      REELKIT_TRANSCODE_CONCURRENCY: "auto",
    } as NodeJS.ProcessEnv);
  const observed = (inner: QueueBus): Bus => ({
    publish: async (topic, payload, key) => {
      const names =
        topic === "video.transcode.playable"
          ? (payload as EventPayloads["video.transcode.playable"]).renditions.map((r) => r.name)
          : undefined;
      await inner.publish(topic, payload, key);
      events.push({ topic, videoId: payload.videoId, at: Date.now(), names });
    },
    subscribe: (group, handlers, options) => inner.subscribe(group, handlers, options),
    unsubscribe: (group) => inner.unsubscribe(group),
    ping: () => inner.ping(),
    close: () => inner.close(),
  });
  const first = (topic: string, videoId: string) => events.find((e) => e.topic === topic && e.videoId === videoId);
  /** A 720p H.264 clip with one keyframe every 10 s: it cannot pass through, every rung is encoded. */
  function longGopClip(file: string, seconds: number, size = "1280x720"): void {
    execFileSync(bin.ffmpeg, [
      ...["-v", "error", "-y", "-f", "lavfi", "-i", `testsrc2=size=${size}:rate=25:duration=${seconds}`],
      ...["-f", "lavfi", "-i", `sine=frequency=300:duration=${seconds}`],
      ...["-c:v", "libx264", "-preset", "ultrafast", "-g", "250", "-pix_fmt", "yuv420p", "-c:a", "aac", file],
    ]);
  }

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "reelkit-phases-test-"));
    storage = new LocalStorage(path.join(dir, "media"));
    queue = new QueueBus({ store: new MemoryJobStore(), pollMs: 20 });
  });
  afterAll(async () => {
    await queue.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it("makes a second video playable while the first one's ladder is still running", async () => {
    const bus = observed(queue);
    const transcoder = createTranscoder({ config: config(dir), storage, bus, logger });
    await transcoder.start();
    try {
      const a = path.join(dir, "a.mp4");
      const b = path.join(dir, "b.mp4");
      longGopClip(a, 20);
      longGopClip(b, 4, "640x360");
      await storage.putFile(keys.source("first"), a);
      await storage.putFile(keys.source("second"), b);
      await bus.publish("video.uploaded", { videoId: "first", attempt: 1, sourceKey: keys.source("first") }, "first");
      await vi.waitFor(() => expect(first("video.transcode.playable", "first")).toBeDefined(), {
        timeout: 60_000,
        interval: 50,
      });
      // Playable with the fast rung and the audio only; the ladder phase adds the rest.
      expect(first("video.transcode.playable", "first")?.names).toEqual(["360p"]);
      await bus.publish(
        "video.uploaded",
        { videoId: "second", attempt: 1, sourceKey: keys.source("second") },
        "second",
      );
      await vi.waitFor(() => expect(first("video.transcode.ready", "first")).toBeDefined(), {
        timeout: 120_000,
        interval: 50,
      });
      await vi.waitFor(() => expect(first("video.transcode.ready", "second")).toBeDefined(), {
        timeout: 120_000,
        interval: 50,
      });
      const secondPlayable = first("video.transcode.playable", "second")?.at ?? Number.POSITIVE_INFINITY;
      expect(secondPlayable).toBeLessThan(first("video.transcode.ready", "first")?.at ?? 0);
      // The first video's final master names every rung; its playable rung was encoded once.
      const master = await fs.readFile(storage.localPath(keys.master("first")) as string, "utf8");
      expect(master.match(/^\d+p\/index\.m3u8$/gm)).toEqual(["720p/index.m3u8", "360p/index.m3u8", "180p/index.m3u8"]);
      expect(events.filter((e) => e.topic === "video.transcode.ladder" && e.videoId === "first")).toHaveLength(1);
    } finally {
      await transcoder.stop();
    }
  }, 240_000);

  it("resumes a job stopped between its two phases at the ladder, keeping the playable output", async () => {
    const c = path.join(dir, "c.mp4");
    longGopClip(c, 12, "640x360");
    await storage.putFile(keys.source("resumed"), c);
    // This transcoder stops the moment the ladder phase is queued (its process would be gone).
    let stopFirst: () => void = () => {};
    const stopped = new Promise<void>((resolve) => {
      stopFirst = resolve;
    });
    const inner = observed(queue);
    const bus: Bus = {
      ...inner,
      publish: async (topic, payload, key) => {
        await inner.publish(topic, payload, key);
        if (topic === "video.transcode.ladder") stopFirst();
      },
    };
    const one = createTranscoder({ config: config(dir), storage, bus, logger });
    await one.start();
    await bus.publish(
      "video.uploaded",
      { videoId: "resumed", attempt: 1, sourceKey: keys.source("resumed") },
      "resumed",
    );
    await stopped;
    await one.stop();
    const playableSegment = storage.localPath("videos/resumed/hls/360p/seg-000.m4s") as string;
    const before = await fs.stat(playableSegment);
    const two = createTranscoder({ config: config(dir), storage, bus: observed(queue), logger });
    await two.start();
    try {
      await vi.waitFor(() => expect(first("video.transcode.ready", "resumed")).toBeDefined(), {
        timeout: 120_000,
        interval: 50,
      });
      // The playable rung was not encoded again, and the master names every rung.
      expect((await fs.stat(playableSegment)).mtimeMs).toBe(before.mtimeMs);
      expect(
        events.filter((e) => e.topic === "video.transcode.playable" && e.videoId === "resumed").length,
      ).toBeLessThanOrEqual(3);
      const master = await fs.readFile(storage.localPath(keys.master("resumed")) as string, "utf8");
      expect(master.match(/^\d+p\/index\.m3u8$/gm)).toEqual(["360p/index.m3u8", "180p/index.m3u8"]);
    } finally {
      await two.stop();
    }
  }, 240_000);
});
