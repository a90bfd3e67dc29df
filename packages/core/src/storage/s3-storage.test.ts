import { expect, it } from "vitest";
import { describeWith, s3TestEngine } from "../../../../test/engines.js";
import { createTestBucket } from "../../../../test/s3.js";
import { storageContract } from "./storage-contract.js";

const { engine, missing } = s3TestEngine();

describeWith("s3", missing, "S3Storage (S3-compatible server)", () => {
  const s3 = engine as NonNullable<typeof engine>;

  storageContract(async () => {
    const bucket = await createTestBucket(s3);
    return { storage: bucket.storage, close: () => bucket.drop() };
  });

  it("stores every object with the Content-Type and Cache-Control of its key", async () => {
    const bucket = await createTestBucket(s3);
    const { HeadObjectCommand } = await import("@aws-sdk/client-s3");
    try {
      const cases: [string, string, string][] = [
        ["videos/v/hls/master.m3u8", "application/vnd.apple.mpegurl", "public, max-age=2"],
        ["videos/v/hls/720p/seg_00001.m4s", "video/iso.segment", "public, max-age=31536000, immutable"],
        ["videos/v/hls/720p/init.mp4", "video/mp4", "public, max-age=31536000, immutable"],
        ["videos/v/poster.jpg", "image/jpeg", "public, max-age=31536000, immutable"],
        ["videos/v/storyboard.vtt", "text/vtt; charset=utf-8", "public, max-age=31536000, immutable"],
        ["videos/v/source", "application/octet-stream", "private, no-store"],
      ];
      for (const [key] of cases) await bucket.storage.put(key, "x");
      await bucket.storage.copy("videos/v/hls/master.m3u8", "videos/w/hls/master.m3u8");
      cases.push(["videos/w/hls/master.m3u8", "application/vnd.apple.mpegurl", "public, max-age=2"]);
      for (const [key, contentType, cacheControl] of cases) {
        const head = await bucket.client.send(new HeadObjectCommand({ Bucket: bucket.name, Key: key }));
        expect([key, head.ContentType, head.CacheControl]).toEqual([key, contentType, cacheControl]);
      }
      expect(bucket.storage.localPath("videos/v/source")).toBeNull();
    } finally {
      await bucket.drop();
    }
  });
});
