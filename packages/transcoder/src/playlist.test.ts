import HLS from "hls-parser";
import { describe, expect, it } from "vitest";
import { measureRates, parseMediaPlaylist, writeMasterPlaylist } from "./playlist.js";

const video = (sizes: number[]) => ({ initSize: 1000, segments: sizes.map((size) => ({ duration: 6, size })) });

describe("writeMasterPlaylist", () => {
  it("writes variants with peak/average bandwidth incl. audio, resolution, codecs and frame rate", () => {
    const audio = {
      uri: "audio/index.m3u8",
      initSize: 600,
      segments: [
        { duration: 6, size: 96_000 },
        { duration: 2, size: 32_000 },
      ],
    };
    const { text } = writeMasterPlaylist({
      variants: [
        {
          uri: "720p/index.m3u8",
          width: 1280,
          height: 720,
          codecs: "avc1.64001f",
          frameRate: 30,
          video: video([2_250_000, 1_500_000]),
        },
        {
          uri: "360p/index.m3u8",
          width: 640,
          height: 360,
          codecs: "avc1.64001e",
          frameRate: 30,
          video: video([600_000, 450_000]),
        },
      ],
      audio,
    });
    const master = HLS.parse(text) as HLS.types.MasterPlaylist;
    expect(master.isMasterPlaylist).toBe(true);
    expect(master.variants).toHaveLength(2);
    const [hi, lo] = master.variants;
    const audioPeak = 128_000; // 96 kB in 6 s
    const audioAvg = Math.ceil(((600 + 128_000) * 8) / 8);
    expect(hi?.bandwidth).toBe(3_000_000 + audioPeak);
    expect(hi?.averageBandwidth).toBe(Math.ceil(((1000 + 3_750_000) * 8) / 12) + audioAvg);
    expect(hi?.resolution).toEqual({ width: 1280, height: 720 });
    expect(hi?.codecs).toBe("avc1.64001f,mp4a.40.2");
    expect(hi?.frameRate).toBe(30);
    expect(hi?.uri).toBe("720p/index.m3u8");
    expect(lo?.bandwidth).toBe(800_000 + audioPeak);
    expect(hi?.audio[0]).toMatchObject({ type: "AUDIO", groupId: "audio", uri: "audio/index.m3u8", channels: "2" });
  });

  it("leaves out the audio group for a silent source", () => {
    const { text, rates } = writeMasterPlaylist({
      variants: [
        {
          uri: "180p/index.m3u8",
          width: 320,
          height: 180,
          codecs: "avc1.64000d",
          frameRate: 25,
          video: video([150_000]),
        },
      ],
      audio: null,
    });
    expect(text).not.toContain("EXT-X-MEDIA");
    expect(rates).toEqual([{ peak: 200_000, average: Math.ceil((151_000 * 8) / 6) }]);
    const master = HLS.parse(text) as HLS.types.MasterPlaylist;
    expect(master.variants[0]?.codecs).toBe("avc1.64000d");
    expect(master.variants[0]?.audio).toEqual([]);
  });
});

describe("media playlist measuring", () => {
  it("reads segment durations and computes rates", () => {
    const segs = parseMediaPlaylist(
      '#EXTM3U\n#EXT-X-MAP:URI="init.mp4"\n#EXTINF:6.000000,\nseg-000.m4s\n#EXTINF:2.5,\nseg-001.m4s\n#EXT-X-ENDLIST\n',
    );
    expect(segs).toEqual([
      { uri: "seg-000.m4s", duration: 6 },
      { uri: "seg-001.m4s", duration: 2.5 },
    ]);
    expect(
      measureRates({
        segments: [
          { duration: 2, size: 1000 },
          { duration: 4, size: 1000 },
        ],
      }),
    ).toEqual({ peak: 4000, average: 2667 });
  });
});
