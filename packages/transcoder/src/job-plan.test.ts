import { describe, expect, it } from "vitest";
import { planJob, planPhases, planWith, playableMessage, readyMessage, renditionsOf } from "./job-plan.js";
import type { ProbeResult } from "./probe.js";
import { phaseSlots } from "./transcoder.js";

const camera: ProbeResult = {
  durationSec: 10,
  width: 1920,
  height: 1080,
  rotation: 0,
  frameRate: 30,
  hasAudio: true,
  video: { codec: "h264", profile: "High", level: 40, pixFmt: "yuv420p", bitDepth: 8 },
  audioCodec: "aac",
};
const everySecond = Array.from({ length: 10 }, (_, i) => i);
const rungs = [1080, 720, 360];

describe("planJob", () => {
  it("copies a streamable source into the top rung at the source's own rate, audio last", () => {
    const plan = planJob({ probe: camera, keyframes: everySecond, sourceSize: 10_000_000, rungs });
    expect(plan.passthrough).toEqual({ passthrough: true, keyframes: everySecond, maxGapSec: 1 });
    expect(plan.encodeReason).toBeUndefined();
    expect(plan.renditions).toEqual([
      { name: "1080p", targetDuration: 3 },
      { name: "720p", targetDuration: 3 },
      { name: "360p", targetDuration: 3 },
      { name: "audio", targetDuration: 3 },
    ]);
    expect(plan.variants[0]).toMatchObject({
      uri: "1080p/index.m3u8",
      codecs: "avc1.640028",
      video: { average: 8_000_000, peak: 12_000_000 },
    });
    expect(plan.variants[1]).toMatchObject({ codecs: "avc1.64001f", video: { average: 3_000_000, peak: 4_500_000 } });
    expect(plan.audio).toEqual({ uri: "audio/index.m3u8", bitrate: 128_000 });
  });

  it("encodes every rung of a source that cannot pass through, and says why", () => {
    const hevc = { ...camera, hasAudio: false, audioCodec: null, video: { ...camera.video, codec: "hevc" } };
    const plan = planJob({ probe: hevc, keyframes: [], sourceSize: 1, rungs });
    expect(plan.passthrough).toBeUndefined();
    expect(plan.encodeReason).toMatch(/not H\.264/);
    expect(plan.renditions.map((r) => r.name)).toEqual(["1080p", "720p", "360p"]);
    expect(plan.renditions.every((r) => r.targetDuration === 2)).toBe(true);
    expect(plan.audio).toBeNull();
  });

  it("describes the same renditions in playable and ready messages, with audio in the codecs", () => {
    const plan = planJob({ probe: camera, keyframes: everySecond, sourceSize: 10_000_000, rungs: [720] });
    const ref = { videoId: "v1", attempt: 2, masterKey: "videos/v1/hls/master.m3u8", hlsPrefix: "videos/v1/hls/" };
    const rates = [{ peak: 5, average: 4 }];
    expect(renditionsOf(plan, rates, ref.hlsPrefix)).toEqual([
      {
        name: "720p",
        width: 1280,
        height: 720,
        bandwidth: 5,
        averageBandwidth: 4,
        codecs: "avc1.64001f,mp4a.40.2",
        frameRate: 30,
        playlistKey: "videos/v1/hls/720p/index.m3u8",
      },
    ]);
    const playable = playableMessage(plan, { ...ref, rates });
    expect(playable).toMatchObject({ videoId: "v1", attempt: 2, width: 1920, height: 1080, passthrough: false });
    const images = { posterKey: "p", storyboardKey: "s", storyboardVttKey: "t" };
    expect(readyMessage(plan, { ...ref, rates, images })).toMatchObject({ ...images, renditions: playable.renditions });
  });
});

describe("planPhases", () => {
  it("makes a passthrough source playable with its copied rung and audio; the ladder adds the rest", () => {
    const plan = planJob({ probe: camera, keyframes: everySecond, sourceSize: 10_000_000, rungs });
    expect(planPhases(plan)).toEqual({ playable: ["1080p", "audio"], ladder: ["720p", "360p"], fastRung: null });
  });

  it("encodes the smallest rung at or above 360p first for a source that cannot pass through", () => {
    const hevc = { ...camera, video: { ...camera.video, codec: "hevc" } };
    const plan = planJob({ probe: hevc, keyframes: [], sourceSize: 1, rungs: [1080, 720, 480, 360, 180] });
    expect(planPhases(plan)).toEqual({
      playable: ["360p", "audio"],
      ladder: ["1080p", "720p", "480p", "180p"],
      fastRung: "360p",
    });
    const small = { ...hevc, width: 320, height: 180, hasAudio: false, audioCodec: null };
    expect(planPhases(planJob({ probe: small, keyframes: [], sourceSize: 1, rungs }))).toEqual({
      playable: ["180p"],
      ladder: [],
      fastRung: "180p",
    });
  });

  it("restricts a plan to the renditions a phase publishes, variants in ladder order", () => {
    const plan = planJob({ probe: camera, keyframes: everySecond, sourceSize: 10_000_000, rungs });
    const first = planWith(plan, ["1080p", "audio"]);
    expect(first.ladder.map((r) => r.name)).toEqual(["1080p"]);
    expect(first.variants.map((v) => v.uri)).toEqual(["1080p/index.m3u8"]);
    expect(first.renditions.map((r) => r.name)).toEqual(["1080p", "audio"]);
    expect(planWith(plan, ["720p"]).audio).toBeNull();
  });
});

describe("phaseSlots", () => {
  const GiB = 1024 ** 3;
  it("auto: five playable phases per core, a fifth of them reserved, a ladder per core", () => {
    expect(phaseSlots("auto", 2, 24 * GiB)).toEqual({ playable: 10, ladder: 2, total: 12, reserve: 2 });
    expect(phaseSlots("auto", 8, 64 * GiB)).toEqual({ playable: 40, ladder: 8, total: 48, reserve: 8 });
  });

  it("auto: no more playable phases than memory holds, at least one", () => {
    expect(phaseSlots("auto", 2, 1 * GiB)).toEqual({ playable: 4, ladder: 2, total: 6, reserve: 0 });
    expect(phaseSlots("auto", 1, 0.1 * GiB)).toEqual({ playable: 1, ladder: 1, total: 2, reserve: 0 });
  });

  it("a number caps either phase and both together, with nothing reserved", () => {
    expect(phaseSlots(3, 2, 24 * GiB)).toEqual({ playable: 3, ladder: 3, total: 3, reserve: 0 });
  });
});
