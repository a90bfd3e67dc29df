import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { FfmpegError, progressPercent, runFfmpeg } from "./ffmpeg-runner.js";
import {
  ProbeError,
  parseChapters,
  parseKeyframes,
  parseProbe,
  probeChapters,
  probeFile,
  resolveBinaries,
  withoutPaths,
} from "./probe.js";

const stream = (extra: object) => ({
  codec_type: "video",
  width: 1920,
  height: 1080,
  avg_frame_rate: "30000/1001",
  ...extra,
});
const json = (streams: object[], duration = "4.5") => JSON.stringify({ streams, format: { duration } });

describe("withoutPaths", () => {
  it("keeps ffmpeg's words for the owner and drops the server's file paths", () => {
    expect(withoutPaths("/data/media/videos/4f1c/source: Invalid data found when processing input")).toBe(
      "Invalid data found when processing input",
    );
    expect(withoutPaths("ffmpeg exited with 1: Error opening output /tmp/reelkit-job-1/out/180p/index.m3u8")).toBe(
      "ffmpeg exited with 1: Error opening output a file",
    );
    expect(withoutPaths("C:\\media\\videos\\x\\source: moov atom not found")).toBe("moov atom not found");
    expect(withoutPaths("Stream #0:0: 1920x1080, 16/9, 30 fps")).toBe("Stream #0:0: 1920x1080, 16/9, 30 fps");
  });
});

describe("parseProbe", () => {
  it("reads size, frame rate, duration, audio and rotation from the display matrix or the rotate tag", () => {
    expect(parseProbe(json([stream({}), { codec_type: "audio" }]))).toEqual({
      durationSec: 4.5,
      width: 1920,
      height: 1080,
      rotation: 0,
      frameRate: 29.97,
      hasAudio: true,
      video: { codec: "", profile: "", level: 0, pixFmt: "", bitDepth: 8 },
      audioCodec: "",
    });
    const matrix = stream({ side_data_list: [{ side_data_type: "Display Matrix", rotation: -90 }] });
    expect(parseProbe(json([matrix])).rotation).toBe(90);
    expect(parseProbe(json([stream({ tags: { rotate: "270" } })])).rotation).toBe(270);
    expect(parseProbe(json([stream({})])).hasAudio).toBe(false);
  });

  it("reads the video coding and the audio codec (passthrough decisions)", () => {
    const h264 = stream({
      codec_name: "h264",
      profile: "High",
      level: 41,
      pix_fmt: "yuv420p",
      bits_per_raw_sample: "8",
    });
    const result = parseProbe(json([h264, { codec_type: "audio", codec_name: "aac" }]));
    expect(result.video).toEqual({ codec: "h264", profile: "High", level: 41, pixFmt: "yuv420p", bitDepth: 8 });
    expect(result.audioCodec).toBe("aac");
    const hevc = stream({ codec_name: "hevc", profile: "Main 10", level: 150, pix_fmt: "yuv420p10le" });
    expect(parseProbe(json([hevc])).video).toMatchObject({ codec: "hevc", bitDepth: 10 });
    expect(parseProbe(json([hevc])).audioCodec).toBeNull();
    expect(parseProbe(json([stream({ level: -99 })])).video.level).toBe(0);
  });

  it("reads keyframe times from ffprobe's packet list, ascending", () => {
    const csv = "0.066000,K__\n0.133000,___\n1.000000,K_\nN/A,K__\n0.000000,K__\n2.000000,__D\n";
    expect(parseKeyframes(csv)).toEqual([0, 0.066, 1]);
  });

  it("rejects audio-only, garbage and duration-less input with a ProbeError", () => {
    expect(() => parseProbe(json([{ codec_type: "audio" }]))).toThrow(/audio-only/);
    expect(() => parseProbe("not json")).toThrow(ProbeError);
    expect(() => parseProbe(json([stream({})], "0"))).toThrow(/duration/);
  });
});

describe("ffmpeg runner", () => {
  const bin = resolveBinaries({ ffmpegPath: null, ffprobePath: null });

  it("turns out_time_us into a clamped percentage", () => {
    expect(progressPercent("out_time_us=2000000", 4)).toBe(50);
    expect(progressPercent("out_time_us=9000000", 4)).toBe(100);
    expect(progressPercent("frame=12", 4)).toBeNull();
  });

  it("reports progress, fails readably and can be aborted", async () => {
    const seen: number[] = [];
    const gen = [
      "-v",
      "error",
      "-progress",
      "pipe:1",
      "-nostats",
      "-f",
      "lavfi",
      "-i",
      "testsrc=size=64x64:rate=25:duration=2",
      "-f",
      "null",
      "-",
    ];
    await runFfmpeg({ ffmpeg: bin.ffmpeg, args: gen, durationSec: 2, onProgress: (p) => seen.push(p) });
    expect(seen.at(-1)).toBeGreaterThan(90);
    await expect(
      runFfmpeg({ ffmpeg: bin.ffmpeg, args: ["-v", "error", "-i", "/nonexistent/x.mp4", "-f", "null", "-"] }),
    ).rejects.toThrow(FfmpegError);
    const ctrl = new AbortController();
    const long = runFfmpeg({
      ffmpeg: bin.ffmpeg,
      args: ["-v", "error", "-re", "-f", "lavfi", "-i", "testsrc=duration=60", "-f", "null", "-"],
      signal: ctrl.signal,
    });
    setTimeout(() => ctrl.abort(), 200);
    await expect(long).rejects.toThrow(/abort/i);
    await expect(probeFile(bin.ffprobe, "/nonexistent/x.mp4")).rejects.toBeInstanceOf(ProbeError);
  }, 20_000);
});

describe("parseChapters", () => {
  it("reads ffprobe's chapters sorted, one per start, titled", () => {
    const json = JSON.stringify({
      chapters: [
        { id: 2, time_base: "1/1000", start: 4000, start_time: "4.000000", end: 8000, tags: { title: "Middle" } },
        { id: 1, time_base: "1/1000", start: 0, start_time: "0.000000", end: 4000, tags: { title: " Intro\n" } },
        { id: 3, time_base: "1/1000", start: 4000, start_time: "4.000000", end: 8000, tags: { title: "Again" } },
        { id: 4, start_time: "8.1234", end_time: "10.0" },
        { id: 5, start_time: "N/A" },
      ],
    });
    expect(parseChapters(json)).toEqual([
      { title: "Intro", startTime: 0 },
      { title: "Middle", startTime: 4 },
      { title: "Chapter 3", startTime: 8.123 },
    ]);
  });

  it("finds none in output without chapters or that is not JSON", () => {
    expect(parseChapters('{"chapters":[]}')).toEqual([]);
    expect(parseChapters("{}")).toEqual([]);
    expect(parseChapters("not json")).toEqual([]);
  });
});

describe("probeChapters", () => {
  const bin = resolveBinaries({ ffmpegPath: null, ffprobePath: null });
  it("reads the chapters of a real MP4 and none from one without", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "reelkit-chapters-"));
    try {
      const meta = path.join(dir, "meta.txt");
      await writeFile(
        meta,
        ";FFMETADATA1\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=1500\ntitle=Opening\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=1500\nEND=3000\ntitle=Finale\n",
      );
      const withChapters = path.join(dir, "with.mp4");
      const without = path.join(dir, "without.mp4");
      const clip = ["-v", "error", "-f", "lavfi", "-i", "testsrc=size=64x64:rate=10:duration=3"];
      await runFfmpeg({
        ffmpeg: bin.ffmpeg,
        args: [...clip, "-i", meta, "-map_metadata", "1", "-map_chapters", "1", "-map", "0:v", withChapters],
      });
      await runFfmpeg({ ffmpeg: bin.ffmpeg, args: [...clip, without] });
      expect(await probeChapters(bin.ffprobe, withChapters)).toEqual([
        { title: "Opening", startTime: 0 },
        { title: "Finale", startTime: 1.5 },
      ]);
      expect(await probeChapters(bin.ffprobe, without)).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 20_000);
});
