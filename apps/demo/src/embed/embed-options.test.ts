import { describe, expect, it } from "vitest";
import { parseStartTime } from "../start-time.js";
import { embedOptions } from "./embed-options.js";

describe("embed page options", () => {
  it("reads the video, autoplay, muted, start, loop, controls and token from the URL", () => {
    expect(
      embedOptions({
        pathname: "/embed/abc",
        search: "?autoplay=1&muted=1&start=1m30s&loop=true&controls=0&token=t.x",
      }),
    ).toEqual({
      videoId: "abc",
      autoPlay: "muted",
      muted: true,
      loop: true,
      controls: false,
      startTime: 90,
      token: "t.x",
    });
    expect(embedOptions({ pathname: "/embed/abc/", search: "?autoplay" })).toMatchObject({
      autoPlay: "any",
      muted: false,
      controls: true,
      startTime: undefined,
      token: null,
    });
    expect(embedOptions({ pathname: "/watch/abc", search: "" })).toBeNull();
  });

  it("parses start times as seconds, h/m/s or a clock", () => {
    expect(parseStartTime("42")).toBe(42);
    expect(parseStartTime("1h2m3s")).toBe(3723);
    expect(parseStartTime("1:02:03")).toBe(3723);
    expect(parseStartTime("2:05")).toBe(125);
    expect(parseStartTime("soon")).toBeUndefined();
    expect(parseStartTime(null)).toBeUndefined();
  });
});
