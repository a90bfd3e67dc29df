import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
// The transcoder writes the maps this parser reads: test against its real output, not a copy.
import { planStoryboard, storyboardVtt } from "@reelkit/transcoder";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findStoryboardCue, loadStoryboard, parseStoryboardVtt, parseVttTimestamp } from "./storyboard.js";

describe("parseVttTimestamp", () => {
  it("reads hours, minutes, seconds and milliseconds", () => {
    expect(parseVttTimestamp("00:00:00.000")).toBe(0);
    expect(parseVttTimestamp("01:02:03.450")).toBeCloseTo(3723.45, 6);
    expect(parseVttTimestamp("02:03.450")).toBeCloseTo(123.45, 6);
    expect(parseVttTimestamp("123:00:00.000")).toBe(123 * 3600);
  });
  it("rejects malformed timestamps", () => {
    for (const bad of ["1:2:3", "00:60:00.000", "00:00:00", "aa:bb.ccc", ""]) expect(parseVttTimestamp(bad)).toBeNull();
  });
});

describe("parseStoryboardVtt", () => {
  it("reads the transcoder's map: one cue per interval, tiles laid out row by row", () => {
    const plan = planStoryboard({ durationSec: 125, width: 1280, height: 720 });
    const text = storyboardVtt(plan, 125);
    const cues = parseStoryboardVtt(text, "https://cdn.example/media/videos/v1/storyboard.vtt");
    expect(plan).toMatchObject({ interval: 2, count: 63, cols: 10, tileWidth: 160, tileHeight: 90 });
    expect(cues).toHaveLength(63);
    expect(cues[0]).toEqual({
      start: 0,
      end: 2,
      url: "https://cdn.example/media/videos/v1/storyboard.jpg",
      region: { x: 0, y: 0, width: 160, height: 90 },
    });
    // Cue 13 (26 s..28 s) is the fourth tile of the second row.
    expect(cues[13]).toMatchObject({ start: 26, end: 28, region: { x: 480, y: 90, width: 160, height: 90 } });
    // The last cue ends at the duration, not at the next interval.
    expect(cues.at(-1)).toMatchObject({ start: 124, end: 125, region: { x: 320, y: 540 } });
  });

  it("resolves image references against the VTT URL, absolute, root-relative or path-only", () => {
    const doc = (ref: string) => `WEBVTT\n\n00:00.000 --> 00:05.000\n${ref}#xywh=1,2,3,4\n`;
    const at = (ref: string, base: string) => parseStoryboardVtt(doc(ref), base)[0]?.url;
    expect(at("sprite.jpg", "https://a.example/v/1/map.vtt")).toBe("https://a.example/v/1/sprite.jpg");
    expect(at("../img/s.jpg", "https://a.example/v/1/map.vtt")).toBe("https://a.example/v/img/s.jpg");
    expect(at("https://cdn.example/s.jpg", "https://a.example/map.vtt")).toBe("https://cdn.example/s.jpg");
    // The catalog hands out root-relative media URLs when no public URL is configured.
    expect(at("storyboard.jpg", "/media/videos/v1/storyboard.vtt")).toBe("/media/videos/v1/storyboard.jpg");
    expect(at("/other/s.jpg", "/media/videos/v1/storyboard.vtt")).toBe("/other/s.jpg");
  });

  it("accepts identifiers, settings, NOTE blocks, CRLF, a BOM and pixel: fragments; skips unreadable cues", () => {
    const text = [
      "\uFEFFWEBVTT - storyboard",
      "",
      "NOTE written by hand",
      "",
      "cue-1",
      "00:00:05.000 --> 00:00:10.000 align:start",
      "tiles.jpg#xywh=pixel:100,0,100,50",
      "",
      "00:00:00.000 --> 00:00:05.000",
      "tiles.jpg#xywh=0,0,100,50",
      "",
      "00:00:10.000 --> 00:00:15.000",
      "tiles.jpg#xywh=percent:0,0,50,50",
      "",
      "00:00:15.000 --> 00:00:12.000",
      "tiles.jpg#xywh=0,50,100,50",
      "",
      "00:00:20.000 --> 00:00:25.000",
      "frame-20.jpg",
      "",
    ].join("\r\n");
    const cues = parseStoryboardVtt(text, "https://a.example/sb/map.vtt");
    expect(cues.map((c) => [c.start, c.end, c.url.split("/").at(-1), c.region])).toEqual([
      [0, 5, "tiles.jpg", { x: 0, y: 0, width: 100, height: 50 }],
      [5, 10, "tiles.jpg", { x: 100, y: 0, width: 100, height: 50 }],
      [20, 25, "frame-20.jpg", null],
    ]);
  });

  it("refuses a document that is not WebVTT", () => {
    expect(() => parseStoryboardVtt("<html></html>", "https://a.example/x.vtt")).toThrow(/WEBVTT/);
  });
});

describe("findStoryboardCue", () => {
  const cues = parseStoryboardVtt(
    storyboardVtt(planStoryboard({ durationSec: 9.5, width: 320, height: 240 }), 9.5),
    "/sb.vtt",
  );
  it("finds the cue covering a time, start inclusive and end exclusive", () => {
    expect(cues.map((c) => [c.start, c.end])).toEqual([
      [0, 1],
      [1, 2],
      [2, 3],
      [3, 4],
      [4, 5],
      [5, 6],
      [6, 7],
      [7, 8],
      [8, 9],
      [9, 9.5],
    ]);
    expect(findStoryboardCue(cues, 0)?.start).toBe(0);
    expect(findStoryboardCue(cues, 3.999)?.start).toBe(3);
    expect(findStoryboardCue(cues, 4)?.start).toBe(4);
    expect(findStoryboardCue(cues, 9.7)?.start).toBe(9);
    expect(findStoryboardCue(cues, 12)).toBeNull();
    expect(findStoryboardCue(cues, -1)).toBeNull();
    expect(findStoryboardCue([], 1)).toBeNull();
  });
});

describe("loadStoryboard over HTTP", () => {
  let base = "";
  const server = createServer((req, res) => {
    if (req.url === "/media/v/storyboard.vtt") {
      res.writeHead(200, { "content-type": "text/vtt" });
      res.end(storyboardVtt(planStoryboard({ durationSec: 4, width: 640, height: 360 }), 4));
    } else {
      res.writeHead(404).end();
    }
  });
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("fetches, parses and resolves the sprite against the VTT URL", async () => {
    const cues = await loadStoryboard(`${base}/media/v/storyboard.vtt`);
    expect(cues).toHaveLength(4);
    expect(cues[3]).toEqual({
      start: 3,
      end: 4,
      url: `${base}/media/v/storyboard.jpg`,
      region: { x: 480, y: 0, width: 160, height: 90 },
    });
  });

  it("fails with the status on an HTTP error", async () => {
    await expect(loadStoryboard(`${base}/nope.vtt`)).rejects.toThrow(/HTTP 404/);
  });
});
