import { describe, expect, it } from "vitest";
import { displaySize, planLadder } from "./ladder.js";

const sizes = (src: Parameters<typeof planLadder>[0], rungs?: number[]) =>
  planLadder(src, rungs).map((r) => `${r.name}:${r.width}x${r.height}`);

describe("planLadder", () => {
  it("gives a 1080p landscape source every default rung", () => {
    expect(sizes({ width: 1920, height: 1080, rotation: 0 })).toEqual([
      "1080p:1920x1080",
      "720p:1280x720",
      "480p:854x480",
      "360p:640x360",
      "180p:320x180",
    ]);
  });

  it("never upscales", () => {
    expect(sizes({ width: 1280, height: 720, rotation: 0 })).toEqual([
      "720p:1280x720",
      "480p:854x480",
      "360p:640x360",
      "180p:320x180",
    ]);
    expect(sizes({ width: 640, height: 480, rotation: 0 })).toEqual(["480p:640x480", "360p:480x360", "180p:240x180"]);
  });

  it("plans a rotated phone clip from its display size", () => {
    expect(displaySize({ width: 1920, height: 1080, rotation: 90 })).toEqual({ width: 1080, height: 1920 });
    expect(displaySize({ width: 1920, height: 1080, rotation: -90 })).toEqual({ width: 1080, height: 1920 });
    expect(displaySize({ width: 1920, height: 1080, rotation: 180 })).toEqual({ width: 1920, height: 1080 });
    expect(sizes({ width: 1920, height: 1080, rotation: 270 })).toEqual([
      "1080p:1080x1920",
      "720p:720x1280",
      "480p:480x854",
      "360p:360x640",
      "180p:180x320",
    ]);
    expect(sizes({ width: 720, height: 1280, rotation: 0 })).toEqual(sizes({ width: 1280, height: 720, rotation: 90 }));
  });

  it("rounds odd sizes to even", () => {
    const ladder = planLadder({ width: 1001, height: 563, rotation: 0 });
    expect(ladder.map((r) => r.name)).toEqual(["562p", "480p", "360p", "180p"]);
    for (const r of ladder) {
      expect(r.width % 2).toBe(0);
      expect(r.height % 2).toBe(0);
    }
    expect(ladder[0]).toMatchObject({ width: 1000, height: 562 });
    expect(ladder[1]).toMatchObject({ width: 854, height: 480 });
  });

  it("adds a top rung at the source's own size when it lies between rungs", () => {
    expect(sizes({ width: 480, height: 270, rotation: 0 })).toEqual(["270p:480x270", "180p:320x180"]);
    expect(sizes({ width: 1920, height: 800, rotation: 0 })).toEqual([
      "800p:1920x800",
      "720p:1728x720",
      "480p:1152x480",
      "360p:864x360",
      "180p:432x180",
    ]);
    // Portrait: the short side decides.
    expect(sizes({ width: 270, height: 480, rotation: 0 })).toEqual(["270p:270x480", "180p:180x320"]);
    // Less than 10 % above the rung below: nothing visible to gain, no extra rung.
    expect(sizes({ width: 1298, height: 730, rotation: 0 })[0]).toBe("720p:1280x720");
    // Above every rung: the largest rung caps the ladder.
    expect(sizes({ width: 3840, height: 2160, rotation: 0 })[0]).toBe("1080p:1920x1080");
  });

  it("gives an in-between rung a bitrate between its neighbours'", () => {
    const [native, below] = planLadder({ width: 480, height: 270, rotation: 0 });
    expect(native?.videoBitrate).toBe(550_000);
    expect(below?.videoBitrate).toBe(300_000);
    const [top, next] = planLadder({ width: 1920, height: 800, rotation: 0 });
    expect(top?.videoBitrate).toBeGreaterThan(next?.videoBitrate ?? Number.POSITIVE_INFINITY);
    expect(top?.videoBitrate).toBeLessThan(5_000_000);
  });

  it("gives a source smaller than every rung one rung at its own even size", () => {
    expect(sizes({ width: 160, height: 120, rotation: 0 })).toEqual(["120p:160x120"]);
    expect(sizes({ width: 97, height: 55, rotation: 0 })).toEqual(["54p:96x54"]);
    expect(sizes({ width: 1, height: 1, rotation: 0 })).toEqual(["2p:2x2"]);
  });

  it("caps every rung's bitrate with a VBV buffer, larger rungs getting more", () => {
    const ladder = planLadder({ width: 1920, height: 1080, rotation: 0 });
    for (const r of ladder) {
      expect(r.maxrate).toBeGreaterThan(r.videoBitrate);
      expect(r.bufsize).toBeGreaterThanOrEqual(r.maxrate);
    }
    const rates = ladder.map((r) => r.videoBitrate);
    expect([...rates].sort((a, b) => b - a)).toEqual(rates);
    expect(new Set(rates).size).toBe(rates.length);
  });

  it("honours custom rungs and rejects an empty source", () => {
    expect(sizes({ width: 1920, height: 1080, rotation: 0 }, [540, 1440, 240])).toEqual([
      "1080p:1920x1080",
      "540p:960x540",
      "240p:426x240",
    ]);
    expect(sizes({ width: 1920, height: 1080, rotation: 0 }, [540, 240])).toEqual(["540p:960x540", "240p:426x240"]);
    expect(() => planLadder({ width: 0, height: 720, rotation: 0 })).toThrow(RangeError);
  });
});
