import { describe, expect, it } from "vitest";
import { planLadder } from "./ladder.js";
import { isStreamableCoding, planPassthrough } from "./passthrough.js";
import type { ProbeResult } from "./probe.js";

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
const plan = (probe: ProbeResult, keyframes: number[] = everySecond) =>
  planPassthrough({ probe, ladder: planLadder(probe), keyframes });

describe("planPassthrough", () => {
  it("passes an H.264 8-bit 4:2:0 source with AAC at the top rung's size through", () => {
    expect(plan(camera)).toEqual({ passthrough: true, keyframes: everySecond, maxGapSec: 1 });
    expect(plan({ ...camera, hasAudio: false, audioCodec: null }).passthrough).toBe(true);
    expect(plan({ ...camera, video: { ...camera.video, pixFmt: "yuvj420p" } }).passthrough).toBe(true);
  });

  it("puts keyframe times on the output timeline, which starts at the first one", () => {
    expect(plan(camera, [0.04, 1.04, 3.04, 5.54, 9.04])).toEqual({
      passthrough: true,
      keyframes: [0, 1, 3, 5.5, 9],
      maxGapSec: 3.5,
    });
  });

  it.each([
    ["HEVC", { video: { ...camera.video, codec: "hevc", profile: "Main 10" } }, /not H\.264/],
    ["High 10", { video: { ...camera.video, profile: "High 10", pixFmt: "yuv420p10le", bitDepth: 10 } }, /profile/],
    ["4:2:2", { video: { ...camera.video, profile: "High", pixFmt: "yuv422p" } }, /4:2:0/],
    ["level 5.2", { video: { ...camera.video, level: 52 } }, /level 5\.2/],
    ["Opus audio", { audioCodec: "opus" }, /audio codec opus/],
    ["a rotated phone clip", { rotation: 90 }, /rotated/],
    [
      "a 4K source (larger than the top rung)",
      { width: 3840, height: 2160, video: { ...camera.video, level: 51 } },
      /larger/,
    ],
  ] as const)("sends %s down the encoded path", (_name, change, reason) => {
    const result = plan({ ...camera, ...change } as ProbeResult);
    expect(result.passthrough).toBe(false);
    expect(result.passthrough === false && result.reason).toMatch(reason);
  });

  it("sends sources with sparse, late or intra-only keyframes down the encoded path", () => {
    expect(plan(camera, [0, 2, 6.5])).toMatchObject({ passthrough: false, reason: /4\.5 s apart/ });
    expect(plan(camera, [0, 4, 8])).toMatchObject({ passthrough: true, maxGapSec: 4 });
    expect(plan(camera, [0, 3, 6])).toMatchObject({ passthrough: true });
    expect(plan(camera, [0, 2, 4])).toMatchObject({ passthrough: false, reason: /6\.0 s apart/ });
    expect(plan(camera, [0.5, 2, 4, 6, 8])).toMatchObject({ passthrough: false, reason: /start on a keyframe/ });
    expect(plan(camera, [])).toMatchObject({ passthrough: false });
    const intra = Array.from({ length: 300 }, (_, i) => i / 30);
    expect(plan(camera, intra)).toMatchObject({ passthrough: false, reason: /too dense/ });
  });

  it("names the reason a coding is not streamable, or null", () => {
    expect(isStreamableCoding(camera)).toBeNull();
    expect(isStreamableCoding({ ...camera, video: { ...camera.video, codec: "vp9" } })).toMatch(/vp9/);
    expect(isStreamableCoding({ ...camera, video: { ...camera.video, codec: "prores", profile: "" } })).toMatch(
      /prores/,
    );
  });
});
