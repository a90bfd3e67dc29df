import { loadConfig } from "@reelkit/core";
import { describe, expect, it } from "vitest";
import { mediaBaseUrl, mediaUrl, queuePosition, transcodePhase } from "./video-mapper.js";

describe("media URLs", () => {
  const s3 = { REELKIT_STORAGE: "s3", S3_BUCKET: "media", S3_ENDPOINT: "http://127.0.0.1:9000" };
  it("point at the server's /media route, under REELKIT_PUBLIC_URL when set", () => {
    expect(mediaBaseUrl(loadConfig({}))).toBe("/media");
    expect(mediaBaseUrl(loadConfig({ REELKIT_PUBLIC_URL: "https://video.example.com" }))).toBe(
      "https://video.example.com/media",
    );
    // A private bucket is read through the server as well.
    expect(mediaBaseUrl(loadConfig(s3))).toBe("/media");
  });

  it("point at S3_PUBLIC_BASE_URL (a CDN or the bucket) when objects are public there", () => {
    const base = mediaBaseUrl(loadConfig({ ...s3, S3_PUBLIC_BASE_URL: "https://cdn.example.com/reelkit/" }));
    expect(mediaUrl("videos/v1/hls/master.m3u8", base)).toBe(
      "https://cdn.example.com/reelkit/videos/v1/hls/master.m3u8",
    );
    expect(mediaUrl(null, base)).toBeNull();
  });
});

describe("transcodePhase", () => {
  it("says queued, playable phase, ladder phase (watchable, more qualities coming) or complete", () => {
    expect(transcodePhase({ status: "UPLOADING", masterKey: null })).toBeNull();
    expect(transcodePhase({ status: "QUEUED", masterKey: null })).toBe("queued");
    expect(transcodePhase({ status: "PROCESSING", masterKey: null })).toBe("playable");
    expect(transcodePhase({ status: "PROCESSING", masterKey: "videos/v/hls/master.m3u8" })).toBe("ladder");
    expect(transcodePhase({ status: "READY", masterKey: "videos/v/hls/master.m3u8" })).toBe("complete");
    expect(transcodePhase({ status: "FAILED", masterKey: null })).toBeNull();
  });
});

describe("queuePosition", () => {
  it("is the video's place while it waits (QUEUED), and null in any other state or when unknown", () => {
    const queue = new Map([["v1", 3]]);
    expect(queuePosition({ id: "v1", status: "QUEUED" }, queue)).toBe(3);
    expect(queuePosition({ id: "v2", status: "QUEUED" }, queue)).toBeNull();
    expect(queuePosition({ id: "v1", status: "QUEUED" })).toBeNull();
    expect(queuePosition({ id: "v1", status: "PROCESSING" }, queue)).toBeNull();
  });
});
