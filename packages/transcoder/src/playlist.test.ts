import HLS from "hls-parser";
import { describe, expect, it } from "vitest";
import {
  measureRates,
  parseGrowingPlaylist,
  parseMediaPlaylist,
  writeMasterPlaylist,
  writeMediaPlaylist,
  writeNominalMasterPlaylist,
} from "./playlist.js";

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

describe("progressive playlists", () => {
  const segments = [
    { uri: "seg-000.m4s", duration: 2.8 },
    { uri: "seg-001.m4s", duration: 1.8 },
  ];

  it("writes an EVENT media playlist that starts at 0 and only gains EXT-X-ENDLIST at the end", () => {
    const growing = writeMediaPlaylist({ segments, targetDuration: 3.04, ended: false });
    expect(growing).toBe(
      [
        "#EXTM3U",
        "#EXT-X-VERSION:7",
        "#EXT-X-TARGETDURATION:4",
        "#EXT-X-MEDIA-SEQUENCE:0",
        "#EXT-X-PLAYLIST-TYPE:EVENT",
        "#EXT-X-INDEPENDENT-SEGMENTS",
        "#EXT-X-START:TIME-OFFSET=0",
        '#EXT-X-MAP:URI="init.mp4"',
        "#EXTINF:2.800000,",
        "seg-000.m4s",
        "#EXTINF:1.800000,",
        "seg-001.m4s",
        "",
      ].join("\n"),
    );
    const ended = writeMediaPlaylist({ segments, targetDuration: 3.04, ended: true });
    expect(ended).toBe(`${growing}#EXT-X-ENDLIST\n`);
    const parsed = HLS.parse(ended) as HLS.types.MediaPlaylist;
    expect(parsed.playlistType).toBe("EVENT");
    expect(parsed.endlist).toBe(true);
    expect(parsed.segments.map((seg) => seg.duration)).toEqual([2.8, 1.8]);
  });

  it("reads only complete entries of a playlist ffmpeg is rewriting", () => {
    const full = "#EXTM3U\n#EXTINF:2.000000,\nseg-000.m4s\n#EXTINF:2.000000,\nseg-001.m4s\n";
    expect(parseGrowingPlaylist(full).map((seg) => seg.uri)).toEqual(["seg-000.m4s", "seg-001.m4s"]);
    expect(parseGrowingPlaylist(full.slice(0, -3)).map((seg) => seg.uri)).toEqual(["seg-000.m4s"]);
    expect(parseGrowingPlaylist(full.slice(0, full.indexOf("seg-001") + 2))).toHaveLength(1);
    expect(parseGrowingPlaylist("")).toEqual([]);
  });

  it("writes the early master from nominal rates plus the audio bitrate, starting at 0", () => {
    const { text, rates } = writeNominalMasterPlaylist({
      variants: [
        {
          uri: "1080p/index.m3u8",
          width: 1920,
          height: 1080,
          codecs: "avc1.640028",
          frameRate: 30,
          video: { peak: 22_500_000, average: 15_000_000 },
        },
        {
          uri: "720p/index.m3u8",
          width: 1280,
          height: 720,
          codecs: "avc1.64001f",
          frameRate: 30,
          video: { peak: 4_500_000, average: 3_000_000 },
        },
      ],
      audio: { uri: "audio/index.m3u8", bitrate: 128_000 },
    });
    expect(rates).toEqual([
      { peak: 22_628_000, average: 15_128_000 },
      { peak: 4_628_000, average: 3_128_000 },
    ]);
    expect(text).toContain("#EXT-X-START:TIME-OFFSET=0\n");
    const master = HLS.parse(text) as HLS.types.MasterPlaylist;
    expect(master.variants.map((v) => [v.uri, v.bandwidth, v.averageBandwidth, v.codecs])).toEqual([
      ["1080p/index.m3u8", 22_628_000, 15_128_000, "avc1.640028,mp4a.40.2"],
      ["720p/index.m3u8", 4_628_000, 3_128_000, "avc1.64001f,mp4a.40.2"],
    ]);
    expect(master.variants[0]?.audio[0]?.uri).toBe("audio/index.m3u8");
  });
});
