import { describe, expect, it } from "vitest";
import {
  buildHlsArgs,
  buildHlsRuns,
  forcedKeyframeTimes,
  h264Codec,
  h264Level,
  h264SourceCodec,
} from "./ffmpeg-args.js";
import { imageOutputs, planStoryboard } from "./images.js";
import type { Rung } from "./ladder.js";

const r360: Rung = {
  name: "360p",
  width: 640,
  height: 360,
  videoBitrate: 800_000,
  maxrate: 1_200_000,
  bufsize: 2_400_000,
};
const r180: Rung = { name: "180p", width: 320, height: 180, videoBitrate: 300_000, maxrate: 450_000, bufsize: 900_000 };

const hls = (dir: string, cutEvery = "1") => [
  "-f",
  "hls",
  "-hls_time",
  cutEvery,
  "-hls_segment_type",
  "fmp4",
  "-hls_playlist_type",
  "event",
  "-hls_flags",
  "independent_segments",
  "-hls_fmp4_init_filename",
  "init.mp4",
  "-hls_segment_filename",
  `${dir}/seg-%03d.m4s`,
  `${dir}/index.m3u8`,
];
/** Keys at 0 and 1 s, then every 2 s: a one-second first segment. */
const SHORT_FIRST = "expr:if(lt(n_forced,2),gte(t,n_forced*1),gte(t,(n_forced-1)*2))";
const video = (i: number, rung: Rung, level: string, gop: string, keys = SHORT_FIRST) => [
  "-map",
  `[v${i}]`,
  "-an",
  "-c:v",
  "libx264",
  "-preset",
  "veryfast",
  "-profile:v",
  "high",
  "-level:v",
  level,
  "-pix_fmt",
  "yuv420p",
  "-b:v",
  String(rung.videoBitrate),
  "-maxrate",
  String(rung.maxrate),
  "-bufsize",
  String(rung.bufsize),
  "-g",
  gop,
  "-keyint_min",
  gop,
  "-sc_threshold",
  "0",
  "-force_key_frames",
  keys,
];
const head = ["-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-progress", "pipe:1", "-nostats"];

describe("buildHlsArgs", () => {
  it("decodes once and writes one HLS output per rung plus one for audio", () => {
    expect(
      buildHlsArgs({ input: "/t/src", outDir: "/t/out", ladder: [r360, r180], frameRate: 30, hasAudio: true }),
    ).toEqual([
      ...head,
      "-i",
      "/t/src",
      "-filter_complex",
      "[0:v:0]fps=30,split=2[s0][s1];[s0]scale=640:360,setsar=1[v0];[s1]scale=320:180,setsar=1[v1]",
      ...video(0, r360, "3.0", "60"),
      ...hls("/t/out/360p"),
      ...video(1, r180, "3.0", "60"),
      ...hls("/t/out/180p"),
      "-map",
      "0:a:0",
      "-vn",
      "-c:a",
      "aac",
      "-profile:a",
      "aac_low",
      "-b:a",
      "128000",
      "-ac",
      "2",
      "-ar",
      "48000",
      ...hls("/t/out/audio"),
    ]);
  });

  it("renders the poster and the storyboard from the frames it decodes for the rungs, one frame each", () => {
    const extraOutputs = imageOutputs({
      poster: { output: "/t/poster.jpg", atSec: 1 },
      storyboard: { output: "/t/sb.jpg", plan: planStoryboard({ durationSec: 20, width: 1280, height: 720 }) },
    });
    const args = buildHlsArgs({
      input: "/t/src",
      outDir: "/t/out",
      ladder: [r360],
      frameRate: 30,
      hasAudio: false,
      extraOutputs,
    });
    expect(args[args.indexOf("-filter_complex") + 1]).toBe(
      "[0:v:0]fps=30,split=3[s0][s1][s2];[s0]scale=640:360,setsar=1[v0];" +
        "[s1]trim=start=1.000,trim=end_frame=1[x0];[s2]fps=1/1,scale=160:90,setsar=1,tile=10x2[x1]",
    );
    expect(args.slice(-16)).toEqual([
      ...["-map", "[x0]", "-an", "-frames:v", "1", "-q:v", "3", "/t/poster.jpg"],
      ...["-map", "[x1]", "-an", "-frames:v", "1", "-q:v", "5", "/t/sb.jpg"],
    ]);
  });

  it("omits the audio rendition for a silent source and derives the GOP from the frame rate", () => {
    const args = buildHlsArgs({
      input: "in",
      outDir: "o",
      ladder: [r180],
      frameRate: 29.97,
      hasAudio: false,
      segmentSeconds: 4,
      gopSeconds: 1,
    });
    expect(args).toEqual([
      ...head,
      "-i",
      "in",
      "-filter_complex",
      "[0:v:0]fps=29.97,split=1[s0];[s0]scale=320:180,setsar=1[v0]",
      // A GOP shorter than a segment: segments of several GOPs, no short first one.
      ...video(0, r180, "3.0", "30", "expr:gte(t,n_forced*1)"),
      ...hls("o/180p", "4"),
    ]);
    expect(args).not.toContain("-var_stream_map");
  });

  it("copies the source video into the top rung and keys the encoded rungs at its keyframes", () => {
    const args = buildHlsArgs({
      input: "in",
      outDir: "o",
      ladder: [r360, r180],
      frameRate: 25,
      hasAudio: false,
      passthrough: { keyframes: [0, 1, 1.8, 2.84], maxGapSec: 1.04 },
    });
    const encoded = video(0, r180, "3.0", "51");
    // No minimum GOP: the source's intervals rule; -g (2.04 s) exceeds the longest of them.
    encoded.splice(encoded.indexOf("-keyint_min"), 2);
    encoded[encoded.length - 1] = "0.000,1.000,1.800,2.840";
    expect(args).toEqual([
      ...head,
      "-i",
      "in",
      "-filter_complex",
      "[0:v:0]fps=25,split=1[s0];[s0]scale=320:180,setsar=1[v0]",
      ...["-map", "0:v:0", "-an", "-c:v", "copy", ...hls("o/360p")],
      ...encoded,
      ...hls("o/180p"),
    ]);
  });

  it("copies a one-rung ladder without any filter", () => {
    const args = buildHlsArgs({
      input: "in",
      outDir: "o",
      ladder: [r180],
      frameRate: 30,
      hasAudio: false,
      passthrough: { keyframes: [0], maxGapSec: 3 },
    });
    expect(args).toEqual([...head, "-i", "in", "-map", "0:v:0", "-an", "-c:v", "copy", ...hls("o/180p")]);
  });

  it("refuses an empty ladder", () => {
    expect(() => buildHlsArgs({ input: "i", outDir: "o", ladder: [], frameRate: 30, hasAudio: true })).toThrow(
      RangeError,
    );
  });
});

const AUDIO = [
  "-map",
  "0:a:0",
  "-vn",
  "-c:a",
  "aac",
  "-profile:a",
  "aac_low",
  "-b:a",
  "128000",
  "-ac",
  "2",
  "-ar",
  "48000",
];

describe("buildHlsRuns", () => {
  it("runs an encoded job as one process", () => {
    const job = { input: "in", outDir: "o", ladder: [r360, r180], frameRate: 30, hasAudio: true };
    expect(buildHlsRuns(job)).toEqual([buildHlsArgs(job)]);
  });

  it("splits a passthrough job: the copy with the audio, and the lower rungs encoded for low latency", () => {
    const runs = buildHlsRuns({
      input: "in",
      outDir: "o",
      ladder: [r360, r180],
      frameRate: 25,
      hasAudio: true,
      passthrough: { keyframes: [0, 1, 1.8, 2.84], maxGapSec: 1.04 },
    });
    const encoded = video(0, r180, "3.0", "51");
    encoded.splice(encoded.indexOf("-keyint_min"), 2);
    encoded[encoded.length - 1] = "0.000,1.000,1.800,2.840";
    // The same keys as in one process, with x264's latency tuning after the preset.
    encoded.splice(encoded.indexOf("veryfast") + 1, 0, "-tune", "zerolatency");
    expect(runs).toEqual([
      [...head, "-i", "in", ...["-map", "0:v:0", "-an", "-c:v", "copy", ...hls("o/360p")], ...AUDIO, ...hls("o/audio")],
      [
        ...head,
        "-i",
        "in",
        "-filter_complex",
        "[0:v:0]fps=25,split=1[s0];[s0]scale=320:180,setsar=1[v0]",
        ...encoded,
        ...hls("o/180p"),
      ],
    ]);
  });

  it("needs only the copy for a one-rung passthrough ladder", () => {
    const runs = buildHlsRuns({
      input: "in",
      outDir: "o",
      ladder: [r180],
      frameRate: 30,
      hasAudio: false,
      passthrough: { keyframes: [0], maxGapSec: 3 },
    });
    expect(runs).toEqual([[...head, "-i", "in", "-map", "0:v:0", "-an", "-c:v", "copy", ...hls("o/180p")]]);
  });
});

describe("h264 level and codec string", () => {
  it("picks the smallest level that fits", () => {
    expect(h264Level(640, 360, 30)).toBe(30);
    expect(h264Level(1280, 720, 30)).toBe(31);
    expect(h264Level(1280, 720, 60)).toBe(32);
    expect(h264Level(1920, 1080, 30)).toBe(40);
    expect(h264Level(1920, 1080, 60)).toBe(42);
    expect(h264Codec(1280, 720, 30)).toBe("avc1.64001f");
    expect(h264Codec(1920, 1080, 30)).toBe("avc1.640028");
  });
});

describe("forced keyframe times and source codec strings", () => {
  it("floors each keyframe time to the millisecond so the frame at it is forced, not the next", () => {
    expect(forcedKeyframeTimes([0, 1.001001, 2.0339999, 3.5])).toBe("0.000,1.001,2.033,3.500");
  });

  it("names a copied stream by its own profile and level", () => {
    expect(h264SourceCodec("High", 41)).toBe("avc1.640029");
    expect(h264SourceCodec("Main", 31)).toBe("avc1.4d401f");
    expect(h264SourceCodec("Constrained Baseline", 30)).toBe("avc1.42e01e");
  });
});
