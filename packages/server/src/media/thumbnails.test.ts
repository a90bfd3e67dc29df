import { describe, expect, it } from "vitest";
import {
  animatedArgs,
  animatedKey,
  chosenPosterKey,
  imageArgs,
  imageFilter,
  imageKey,
  normaliseAnimatedRequest,
  normaliseImageRequest,
  segmentAt,
  segmentsIn,
} from "./thumbnails.js";

describe("image requests", () => {
  it("rounds the time, defaults the width and checks sizes, fit and time", () => {
    expect(normaliseImageRequest({ time: 3.04, fit: "preserve", format: "jpg" }, 10)).toEqual({
      time: 3,
      width: 640,
      fit: "preserve",
      format: "jpg",
    });
    expect(() => normaliseImageRequest({ time: 1, width: 641, fit: "preserve", format: "jpg" }, 10)).toThrow(
      /width must be one of/,
    );
    expect(() => normaliseImageRequest({ time: 1, width: 640, fit: "pad", format: "jpg" }, 10)).toThrow(/both/);
    expect(() => normaliseImageRequest({ time: 10, fit: "preserve", format: "jpg" }, 10)).toThrow(/time/);
    expect(() => normaliseImageRequest({ time: -0.2, fit: "preserve", format: "jpg" }, 10)).toThrow(/time/);
  });

  it("keys one object per parameter set", () => {
    expect(imageKey("v1", { time: 3, width: 160, height: 90, fit: "crop", format: "webp" })).toBe(
      "videos/v1/images/t3.0-160x90-crop.webp",
    );
    expect(imageKey("v1", { time: 0.5, height: 90, fit: "preserve", format: "jpg" })).toBe(
      "videos/v1/images/t0.5-autox90-preserve.jpg",
    );
  });

  it("builds the scale filter of each fit", () => {
    expect(imageFilter({ width: 160, fit: "preserve" })).toBe("scale=160:-2");
    expect(imageFilter({ height: 90, fit: "preserve" })).toBe("scale=-2:90");
    expect(imageFilter({ width: 160, height: 90, fit: "preserve" })).toBe(
      "scale=160:90:force_original_aspect_ratio=decrease:force_divisible_by=2",
    );
    expect(imageFilter({ width: 160, height: 90, fit: "crop" })).toBe(
      "scale=160:90:force_original_aspect_ratio=increase,crop=160:90",
    );
    expect(imageFilter({ width: 160, height: 90, fit: "pad" })).toBe(
      "scale=160:90:force_original_aspect_ratio=decrease,pad=160:90:(ow-iw)/2:(oh-ih)/2",
    );
  });

  it("builds ffmpeg's arguments for one frame", () => {
    const request = { time: 2.5, width: 160, height: 90, fit: "crop", format: "webp" } as const;
    expect(imageArgs({ input: "/tmp/in.mp4", offset: 0.5, output: "/tmp/out.webp", request })).toEqual([
      ...["-v", "error", "-nostdin", "-y", "-ss", "0.500", "-i", "/tmp/in.mp4", "-frames:v", "1", "-an"],
      ...["-vf", "scale=160:90:force_original_aspect_ratio=increase,crop=160:90"],
      ...["-c:v", "libwebp", "-quality", "80", "-f", "image2", "/tmp/out.webp"],
    ]);
  });

  it("finds the segment holding a time, with the init section", () => {
    const playlist = [
      "#EXTM3U",
      '#EXT-X-MAP:URI="init.mp4"',
      "#EXTINF:1.0,",
      "seg-0.m4s",
      "#EXTINF:2.0,",
      "seg-1.m4s",
      "#EXTINF:2.0,",
      "seg-2.m4s",
      "#EXT-X-ENDLIST",
    ].join("\n");
    expect(segmentAt(playlist, 0)).toEqual({ init: "init.mp4", uri: "seg-0.m4s", start: 0 });
    expect(segmentAt(playlist, 2.9)).toEqual({ init: "init.mp4", uri: "seg-1.m4s", start: 1 });
    expect(segmentAt(playlist, 3)).toEqual({ init: "init.mp4", uri: "seg-2.m4s", start: 3 });
    expect(segmentAt(playlist, 99)).toEqual({ init: "init.mp4", uri: "seg-2.m4s", start: 3 });
    expect(segmentAt("#EXTM3U\n", 1)).toBeNull();
  });

  it("finds every segment of a span, from the one holding its start", () => {
    const playlist = [
      "#EXTM3U",
      '#EXT-X-MAP:URI="init.mp4"',
      ...["#EXTINF:2.0,", "seg-0.m4s", "#EXTINF:2.0,", "seg-1.m4s", "#EXTINF:2.0,", "seg-2.m4s"],
      "#EXT-X-ENDLIST",
    ].join("\n");
    expect(segmentsIn(playlist, 1, 3)).toEqual({ init: "init.mp4", uris: ["seg-0.m4s", "seg-1.m4s"], start: 0 });
    expect(segmentsIn(playlist, 2, 4)).toEqual({ init: "init.mp4", uris: ["seg-1.m4s"], start: 2 });
    expect(segmentsIn(playlist, 2.5, 99)).toEqual({ init: "init.mp4", uris: ["seg-1.m4s", "seg-2.m4s"], start: 2 });
    expect(segmentsIn("#EXTM3U\n", 0, 1)).toBeNull();
  });
});

describe("animated previews", () => {
  it("defaults to 5 s from 0 at 15 fps and 320 wide, never past the end", () => {
    expect(normaliseAnimatedRequest({}, 60)).toEqual({ start: 0, end: 5, fps: 15, width: 320, height: undefined });
    expect(normaliseAnimatedRequest({ start: 3.04 }, 6)).toEqual({
      start: 3,
      end: 6,
      fps: 15,
      width: 320,
      height: undefined,
    });
    expect(normaliseAnimatedRequest({ start: 1, end: 2.46, fps: 10, height: 90 }, 6)).toMatchObject({
      start: 1,
      end: 2.5,
      width: undefined,
      height: 90,
    });
  });

  it.each([
    [{ start: 0, end: 11 }, 60, /at most 10 s/],
    [{ start: 2, end: 2 }, 60, /end must be after start/],
    [{ start: 3, end: 2 }, 60, /end must be after start/],
    [{ start: 0, end: 7 }, 6, /at most the video's duration/],
    [{ start: 6 }, 6, /start must be/],
    [{ fps: 60 }, 60, /fps must be one of/],
    [{ width: 720 }, 60, /width must be one of .*640$/],
    [{ height: 100 }, 60, /height must be one of/],
  ])("refuses %o of a %s s video", (request, duration, message) => {
    expect(() => normaliseAnimatedRequest(request, duration)).toThrow(message);
  });

  it("keys one object per parameter set, and a chosen poster per time", () => {
    expect(animatedKey("v1", { start: 1, end: 2.5, fps: 10, width: 160 })).toBe(
      "videos/v1/images/a1.0-2.5-10fps-160xauto.webp",
    );
    expect(chosenPosterKey("v1", 12.5)).toBe("videos/v1/poster-t12.5.jpg");
  });

  it("builds ffmpeg's arguments for a looping animated WebP", () => {
    const request = { start: 1, end: 3, fps: 10, width: 160 };
    expect(animatedArgs({ input: "/tmp/in.mp4", offset: 1, duration: 2, output: "/tmp/out.webp", request })).toEqual([
      ...["-v", "error", "-nostdin", "-y", "-ss", "1.000", "-t", "2.000", "-i", "/tmp/in.mp4", "-an"],
      ...["-vf", "fps=10,scale=160:-2", "-c:v", "libwebp_anim", "-quality", "70", "-loop", "0"],
      ...["-f", "webp", "/tmp/out.webp"],
    ]);
  });
});
