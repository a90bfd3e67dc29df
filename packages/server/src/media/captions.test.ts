import { describe, expect, it } from "vitest";
import {
  addSubtitlesToMaster,
  CaptionParseError,
  decodeCaptionFile,
  parseCaptions,
  sanitizeCueText,
  segmentCaptions,
  writeWebVtt,
} from "./captions.js";
import { chapterProblem, writeChaptersVtt } from "./chapters.js";

const SRT = `1
00:00:00,500 --> 00:00:02,000
Hello <font color="red">there</font>

2
00:00:02,500 --> 00:00:05,250
<i>Second</i> line
and more
`;

describe("parseCaptions", () => {
  it("reads SRT and writes it as WebVTT", () => {
    const cues = parseCaptions(SRT.replace(/\n/g, "\r\n"), "srt");
    expect(cues).toEqual([
      { start: 0.5, end: 2, settings: "", text: "Hello there" },
      { start: 2.5, end: 5.25, settings: "", text: "<i>Second</i> line\nand more" },
    ]);
    expect(writeWebVtt(cues)).toBe(
      "WEBVTT\n\n00:00:00.500 --> 00:00:02.000\nHello there\n\n00:00:02.500 --> 00:00:05.250\n<i>Second</i> line\nand more\n",
    );
  });

  it("reads WebVTT with ids, notes, settings and short timestamps", () => {
    const vtt =
      "WEBVTT - a title\nKind: captions\n\nNOTE a note\nover lines\n\nintro\n00:01.000 --> 00:02.000 line:0 align:start\nHi\n";
    expect(parseCaptions(vtt, "vtt")).toEqual([{ start: 1, end: 2, settings: "line:0 align:start", text: "Hi" }]);
  });

  it.each([
    ["vtt", "00:01.000 --> 00:02.000\nHi\n", "Line 1: A WebVTT file starts with"],
    ["srt", "1\n00:00:01,000 -> 00:00:02,000\nHi\n", "Line 2: Expected a timing line"],
    ["srt", "1\n00:00:03,000 --> 00:00:02,000\nHi\n", "Line 2: The cue ends before it starts"],
    ["srt", "hello\n00:00:01,000 --> 00:00:02,000\nHi\n", "Line 1: Expected a cue number"],
    ["vtt", "WEBVTT\n\n00:01.000 --> 00:02.000 onclick:alert(1)\nHi\n", "Line 3: Unknown cue settings"],
    ["srt", "\n\n", "The file has no cues"],
  ] as const)("refuses a malformed %s file naming the line", (format, text, message) => {
    expect(() => parseCaptions(text, format)).toThrow(CaptionParseError);
    expect(() => parseCaptions(text, format)).toThrow(message);
  });

  it("refuses text that is not UTF-8", () => {
    expect(() => decodeCaptionFile(Buffer.from([0x31, 0x0a, 0xff, 0xfe, 0x00]))).toThrow("not UTF-8");
    expect(decodeCaptionFile(Buffer.from("\uFEFFWEBVTT\n"))).toBe("WEBVTT\n");
  });
});

describe("sanitizeCueText", () => {
  it("keeps b, i and u, drops every other tag and escapes the rest", () => {
    expect(sanitizeCueText('<script>alert("x")</script><b>bold</b> <img src=x onerror=alert(1)>')).toBe(
      'alert("x")<b>bold</b> ',
    );
    expect(sanitizeCueText("a < b && c > d --> e &amp; <c.yellow>f</c>")).toBe(
      "a &lt; b &amp;&amp; c &gt; d --&gt; e &amp; f",
    );
    expect(sanitizeCueText("<v Roger>Hi</v> <I>x</I>")).toBe("Hi <i>x</i>");
  });
});

describe("segmentCaptions", () => {
  const cues = parseCaptions(SRT, "srt");

  it("cuts on the media playlist's boundaries, repeating a cue that spans one", () => {
    const { playlist, segments } = segmentCaptions(cues, [{ duration: 1 }, { duration: 2 }, { duration: 2.5 }]);
    expect(playlist).toBe(
      [
        "#EXTM3U",
        "#EXT-X-VERSION:3",
        "#EXT-X-TARGETDURATION:3",
        "#EXT-X-MEDIA-SEQUENCE:0",
        "#EXT-X-PLAYLIST-TYPE:VOD",
        "#EXTINF:1,",
        "seg-0.vtt",
        "#EXTINF:2,",
        "seg-1.vtt",
        "#EXTINF:2.5,",
        "seg-2.vtt",
        "#EXT-X-ENDLIST",
        "",
      ].join("\n"),
    );
    const header = "WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000\n\n";
    expect(segments.map((s) => s.name)).toEqual(["seg-0.vtt", "seg-1.vtt", "seg-2.vtt"]);
    expect(segments[0]?.text).toBe(`${header}00:00:00.500 --> 00:00:02.000\nHello there\n`);
    expect(segments[1]?.text).toContain("Hello there");
    expect(segments[1]?.text).toContain("<i>Second</i>");
    expect(segments[2]?.text).toBe(`${header}00:00:02.500 --> 00:00:05.250\n<i>Second</i> line\nand more\n`);
  });

  it("writes an empty segment where no cue is", () => {
    const { segments } = segmentCaptions(cues, [{ duration: 6 }, { duration: 2 }]);
    expect(segments[1]?.text).toBe("WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000\n\n");
  });
});

describe("addSubtitlesToMaster", () => {
  const master = [
    "#EXTM3U",
    "#EXT-X-VERSION:7",
    '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="Default",URI="audio/index.m3u8"',
    '#EXT-X-STREAM-INF:BANDWIDTH=1000,AUDIO="audio"',
    "360p/index.m3u8",
    '#EXT-X-STREAM-INF:BANDWIDTH=500,AUDIO="audio"',
    "180p/index.m3u8",
    "",
  ].join("\n");

  it("adds one SUBTITLES rendition per track and the group to every variant", () => {
    const out = addSubtitlesToMaster(master, [
      { language: "en", label: 'English "CC"', kind: "captions", isDefault: true, uri: "subtitles/en-1/index.m3u8" },
      { language: "fr", label: "Français", kind: "subtitles", isDefault: false, uri: "subtitles/fr-2/index.m3u8" },
    ]);
    expect(out.split("\n")).toEqual([
      "#EXTM3U",
      "#EXT-X-VERSION:7",
      '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="Default",URI="audio/index.m3u8"',
      '#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="English CC",LANGUAGE="en",DEFAULT=YES,AUTOSELECT=YES,FORCED=NO,CHARACTERISTICS="public.accessibility.transcribes-spoken-dialog,public.accessibility.describes-music-and-sound",URI="subtitles/en-1/index.m3u8"',
      '#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="Français",LANGUAGE="fr",DEFAULT=NO,AUTOSELECT=YES,FORCED=NO,URI="subtitles/fr-2/index.m3u8"',
      '#EXT-X-STREAM-INF:BANDWIDTH=1000,AUDIO="audio",SUBTITLES="subs"',
      "360p/index.m3u8",
      '#EXT-X-STREAM-INF:BANDWIDTH=500,AUDIO="audio",SUBTITLES="subs"',
      "180p/index.m3u8",
      "",
    ]);
  });

  it("leaves the master alone without tracks", () => {
    expect(addSubtitlesToMaster(master, [])).toBe(master);
  });
});

describe("chapters", () => {
  it("accepts sorted starts inside the duration and names what is wrong otherwise", () => {
    const ok = [
      { title: "Intro", startTime: 0 },
      { title: "Middle", startTime: 4 },
    ];
    expect(chapterProblem(ok, 10)).toBeNull();
    expect(chapterProblem([...ok, { title: "Late", startTime: 10 }], 10)).toMatch(/chapters\[2\].*past the end/);
    expect(chapterProblem([ok[1], ok[0]] as typeof ok, 10)).toMatch(/chapters\[1\].*not after/);
    expect(chapterProblem([{ title: " ", startTime: 0 }], 10)).toMatch(/blank/);
  });

  it("writes a WebVTT chapters track, each chapter until the next", () => {
    expect(
      writeChaptersVtt(
        [
          { title: "Intro <b>", startTime: 0 },
          { title: "End", startTime: 4.5 },
        ],
        10,
      ),
    ).toBe("WEBVTT\n\n1\n00:00:00.000 --> 00:00:04.500\nIntro &lt;b&gt;\n\n2\n00:00:04.500 --> 00:00:10.000\nEnd\n");
  });
});
