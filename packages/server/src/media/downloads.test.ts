import { describe, expect, it } from "vitest";
import { downloadKey, playlistParts, remuxArgs } from "./downloads.js";

describe("downloads", () => {
  it("remuxes video and audio into one MP4, index first, without re-encoding", () => {
    expect(remuxArgs({ video: "/t/v.mp4", audio: "/t/a.mp4", output: "/t/o.mp4" })).toEqual([
      ...["-v", "error", "-nostdin", "-y", "-i", "/t/v.mp4", "-i", "/t/a.mp4", "-map", "0:v:0", "-map", "1:a:0"],
      ...["-c", "copy", "-movflags", "+faststart", "-f", "mp4", "/t/o.mp4"],
    ]);
    expect(remuxArgs({ video: "/t/v.mp4", audio: null, output: "/t/o.mp4" })).toEqual([
      ...["-v", "error", "-nostdin", "-y", "-i", "/t/v.mp4", "-map", "0:v:0"],
      ...["-c", "copy", "-movflags", "+faststart", "-f", "mp4", "/t/o.mp4"],
    ]);
  });

  it("reads the init section and segments of a playlist, in order", () => {
    const playlist =
      '#EXTM3U\n#EXT-X-MAP:URI="init.mp4"\n#EXTINF:2,\nseg-0.m4s\n#EXTINF:1.5,\nseg-1.m4s\n#EXT-X-ENDLIST\n';
    expect(playlistParts(playlist)).toEqual(["init.mp4", "seg-0.m4s", "seg-1.m4s"]);
    expect(downloadKey("v1", "720p")).toBe("videos/v1/downloads/720p.mp4");
  });
});
