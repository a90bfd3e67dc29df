import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Readable, Writable } from "node:stream";
import { buffer, text } from "node:stream/consumers";
import { afterEach, beforeEach, expect, it } from "vitest";
import { ObjectNotFoundError, type Storage, StorageKeyError } from "./storage.js";

/**
 * The behaviour every `Storage` backend owes its callers, run against each of them
 * (local-storage.test.ts, s3-storage.test.ts). `open` gives a fresh, empty store.
 */
export function storageContract(open: () => Promise<{ storage: Storage; close(): Promise<void> }>): void {
  let storage: Storage;
  let close: () => Promise<void>;
  let scratch: string;
  beforeEach(async () => {
    ({ storage, close } = await open());
    scratch = await fs.mkdtemp(path.join(os.tmpdir(), "reelkit-contract-"));
  });
  afterEach(async () => {
    await close();
    await fs.rm(scratch, { recursive: true, force: true });
  });

  it("writes, reads, ranges, stats, lists, moves and deletes objects", async () => {
    await storage.put("videos/a/hls/master.m3u8", "#EXTM3U\n");
    await storage.put("videos/a/poster.jpg", Readable.from([Buffer.from("jpeg"), Buffer.from("bytes")]));
    expect(await text(await storage.get("videos/a/poster.jpg"))).toBe("jpegbytes");
    expect(await text(await storage.get("videos/a/poster.jpg", { start: 4, end: 7 }))).toBe("byte");
    expect(await text(await storage.get("videos/a/poster.jpg", { start: 4 }))).toBe("bytes");
    const stat = await storage.stat("videos/a/poster.jpg");
    expect(stat?.size).toBe(9);
    expect(stat?.modifiedAt.getTime()).toBeGreaterThan(Date.now() - 600_000);
    expect(stat?.etag).toBeTruthy();
    expect(await storage.stat("videos/a/missing.jpg")).toBeNull();
    expect((await storage.list("videos/a/")).map((o) => [o.key, o.size])).toEqual([
      ["videos/a/hls/master.m3u8", 8],
      ["videos/a/poster.jpg", 9],
    ]);
    await storage.move("videos/a/poster.jpg", "videos/b/poster.jpg");
    expect(await storage.stat("videos/a/poster.jpg")).toBeNull();
    expect(await text(await storage.get("videos/b/poster.jpg"))).toBe("jpegbytes");
    await storage.deletePrefix("videos/a/");
    expect(await storage.list("videos/a/")).toEqual([]);
    expect((await storage.list("videos/")).map((o) => o.key)).toEqual(["videos/b/poster.jpg"]);
    await expect(storage.get("videos/a/hls/master.m3u8")).rejects.toBeInstanceOf(ObjectNotFoundError);
    await storage.delete("videos/b/poster.jpg");
    await storage.delete("videos/b/poster.jpg"); // absent is not an error
    expect(await storage.list("videos/")).toEqual([]);
  });

  it("opens an object for reading: metadata first, then its bytes or a range, absent as null", async () => {
    await storage.put("videos/a/hls/720p/seg-000.m4s", "0123456789");
    const whole = await storage.open("videos/a/hls/720p/seg-000.m4s");
    expect(whole).toMatchObject({ key: "videos/a/hls/720p/seg-000.m4s", size: 10 });
    expect(whole?.etag).toBe((await storage.stat("videos/a/hls/720p/seg-000.m4s"))?.etag);
    expect(await text(await (whole as NonNullable<typeof whole>).read())).toBe("0123456789");
    const ranged = await storage.open("videos/a/hls/720p/seg-000.m4s");
    expect(await text(await (ranged as NonNullable<typeof ranged>).read({ start: 2, end: 4 }))).toBe("234");
    // Opened and let go without reading (a HEAD): nothing is held, the object can go.
    const unread = await storage.open("videos/a/hls/720p/seg-000.m4s");
    await unread?.close();
    await storage.delete("videos/a/hls/720p/seg-000.m4s");
    expect(await storage.open("videos/a/hls/720p/seg-000.m4s")).toBeNull();
    await storage.put("videos/a/hls/720p/seg-001.m4s", "x");
    expect(await storage.open("videos/a/hls/720p")).toBeNull();
    await storage.put("videos/a/storyboard.vtt", "");
    const empty = await storage.open("videos/a/storyboard.vtt");
    expect(empty?.size).toBe(0);
    expect(await text(await (empty as NonNullable<typeof empty>).read())).toBe("");
  });

  it("writes an opened object into a writable (where the backend can) exactly as read() reads it", async () => {
    // Larger than one read buffer and not a multiple of it, so chunk boundaries are crossed.
    const bytes = randomBytes(600 * 1024 + 17);
    await storage.put("videos/a/hls/720p/seg-000.m4s", bytes);
    await storage.put("videos/a/storyboard.vtt", "");
    const cases: [string, { start: number; end?: number } | undefined, Buffer][] = [
      ["videos/a/hls/720p/seg-000.m4s", undefined, bytes],
      ["videos/a/hls/720p/seg-000.m4s", { start: 262_000, end: 530_000 }, bytes.subarray(262_000, 530_001)],
      ["videos/a/hls/720p/seg-000.m4s", { start: 100 }, bytes.subarray(100)],
      ["videos/a/storyboard.vtt", undefined, Buffer.alloc(0)],
    ];
    for (const [key, range, expected] of cases) {
      const read = await storage.open(key);
      expect(await buffer(await (read as NonNullable<typeof read>).read(range))).toEqual(expected);
      const opened = await storage.open(key);
      if (!opened?.writeTo) continue;
      const chunks: Buffer[] = [];
      // Copies each chunk: the writer may reuse its buffer once the write has called back.
      const target = new Writable({
        write(chunk: Buffer, _encoding, callback) {
          chunks.push(Buffer.from(chunk));
          setImmediate(callback);
        },
      });
      await opened.writeTo(target, range);
      expect(Buffer.concat(chunks).equals(expected), `${key} ${JSON.stringify(range)}`).toBe(true);
    }
  });

  it("does not mistake a key that shares a prefix's characters for one under it", async () => {
    await storage.put("videos/ab/poster.jpg", "x");
    await storage.put("videos/a/poster.jpg", "y");
    await storage.deletePrefix("videos/a/");
    expect((await storage.list("videos/")).map((o) => o.key)).toEqual(["videos/ab/poster.jpg"]);
  });

  it("copies an object, replacing the target, and leaves the original", async () => {
    await storage.put("uploads/u1", "the source bytes");
    await storage.put("videos/v1/source", "an older copy");
    await storage.copy("uploads/u1", "videos/v1/source");
    expect(await text(await storage.get("videos/v1/source"))).toBe("the source bytes");
    expect(await text(await storage.get("uploads/u1"))).toBe("the source bytes");
    await storage.delete("uploads/u1");
    expect(await text(await storage.get("videos/v1/source"))).toBe("the source bytes");
    await expect(storage.copy("uploads/missing", "videos/v1/other")).rejects.toBeInstanceOf(ObjectNotFoundError);
    await expect(storage.move("uploads/missing", "videos/v1/other")).rejects.toBeInstanceOf(ObjectNotFoundError);
  });

  it("round-trips a multi-part stream and local files byte-exact", async () => {
    // Larger than one multipart part (8 MiB) and not a multiple of it.
    const bytes = randomBytes(9 * 1024 * 1024 + 123);
    const chunks = Array.from({ length: Math.ceil(bytes.length / 65_536) }, (_, i) =>
      bytes.subarray(i * 65_536, (i + 1) * 65_536),
    );
    await storage.put("videos/big/source", Readable.from(chunks));
    const digest = (b: Buffer) => createHash("sha256").update(b).digest("hex");
    expect(digest(await buffer(await storage.get("videos/big/source")))).toBe(digest(bytes));
    const tail = await buffer(await storage.get("videos/big/source", { start: bytes.length - 10 }));
    expect(tail.equals(bytes.subarray(bytes.length - 10))).toBe(true);

    const local = path.join(scratch, "down", "source");
    await storage.getToFile("videos/big/source", local);
    expect(digest(await fs.readFile(local))).toBe(digest(bytes));
    await storage.putFile("videos/big/copy", local);
    expect((await storage.stat("videos/big/copy"))?.size).toBe(bytes.length);
    const small = path.join(scratch, "seg.m4s");
    await fs.writeFile(small, "segment");
    await storage.putFile("videos/big/hls/720p/seg_00001.m4s", small);
    expect(await text(await storage.get("videos/big/hls/720p/seg_00001.m4s"))).toBe("segment");
  });

  it("leaves no object when a write stream fails", async () => {
    const failing = new Readable({
      read() {
        this.push("partial");
        this.destroy(new Error("client went away"));
      },
    });
    await expect(storage.put("videos/x/source", failing)).rejects.toThrow("client went away");
    expect(await storage.stat("videos/x/source")).toBeNull();
    expect(await storage.list("videos/x/")).toEqual([]);
  });

  it.each(["../etc/passwd", "/abs", "a//b", "a/./b", "a\\b", ""])("refuses the key %j", async (key) => {
    await expect(storage.put(key, "x")).rejects.toBeInstanceOf(StorageKeyError);
    await expect(storage.get(key)).rejects.toBeInstanceOf(StorageKeyError);
  });
}
