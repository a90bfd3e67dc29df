import { randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import fs from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { CreateMultipartUploadCommand, ListPartsCommand, S3Client, UploadPartCommand } from "@aws-sdk/client-s3";
import { expect, it } from "vitest";
import { describeWith, s3TestEngine } from "../../../../test/engines.js";
import { createTestBucket } from "../../../../test/s3.js";
import { S3Storage, s3ClientConfig } from "./s3-storage.js";
import { storageContract } from "./storage-contract.js";

/**
 * A TCP relay to the S3 server that passes each connection's first `limit` bytes and then
 * closes both ends, as the death of the process sending a request does.
 */
async function cuttingRelay(endpoint: string, limit: number) {
  const target = new URL(endpoint);
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port), target.hostname);
    let passed = 0;
    client.on("data", (chunk: Buffer) => {
      const room = limit - passed;
      passed += chunk.length;
      if (room > chunk.length) return void upstream.write(chunk);
      upstream.end(chunk.subarray(0, Math.max(0, room)), () => upstream.destroy());
      client.destroy();
    });
    upstream.pipe(client);
    for (const s of [client, upstream]) s.on("error", () => s.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  return { endpoint: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(r)) };
}

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

  it("stores nothing of an object or a part whose request was cut off mid-body", async () => {
    const bucket = await createTestBucket(s3);
    const relay = await cuttingRelay(s3.endpoint, 1024 * 1024);
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "reelkit-cut-"));
    try {
      const client = new S3Client({
        ...s3ClientConfig({ ...bucket.config, endpoint: relay.endpoint }),
        maxAttempts: 1,
      });
      const storage = new S3Storage({ bucket: bucket.name, client });
      // An object from bytes (a playlist, a small segment) and one from a file (a rendition).
      await expect(storage.put("videos/v/hls/720p/seg_00001.m4s", randomBytes(4 * 1024 * 1024))).rejects.toThrow();
      const file = path.join(dir, "part");
      await fs.writeFile(file, randomBytes(8 * 1024 * 1024));
      await expect(storage.putFile("videos/v/hls/720p/seg_00002.m4s", file)).rejects.toThrow();
      // A part from a file stream, as @tus/s3-store uploads them (its client gets the same check).
      const { UploadId } = await bucket.client.send(
        new CreateMultipartUploadCommand({ Bucket: bucket.name, Key: "videos/v/source" }),
      );
      const part = { Bucket: bucket.name, Key: "videos/v/source", UploadId, PartNumber: 1 };
      await expect(client.send(new UploadPartCommand({ ...part, Body: createReadStream(file) }))).rejects.toThrow();
      // The server finishes with the cut requests on its own time: nothing appears meanwhile.
      for (let i = 0; i < 10; i++) {
        await new Promise((r) => setTimeout(r, 200));
        expect(await bucket.storage.stat("videos/v/hls/720p/seg_00001.m4s")).toBeNull();
        expect(await bucket.storage.stat("videos/v/hls/720p/seg_00002.m4s")).toBeNull();
        const listed = await bucket.client.send(
          new ListPartsCommand({ Bucket: bucket.name, Key: "videos/v/source", UploadId }),
        );
        expect(listed.Parts ?? []).toEqual([]);
      }
      // Whole requests through the same relay arrive whole (the digest is right).
      const small = randomBytes(1000);
      await storage.put("videos/v/hls/720p/seg_00003.m4s", small);
      expect((await bucket.storage.stat("videos/v/hls/720p/seg_00003.m4s"))?.size).toBe(small.length);
    } finally {
      await relay.close();
      await fs.rm(dir, { recursive: true, force: true });
      await bucket.drop();
    }
  });
});
