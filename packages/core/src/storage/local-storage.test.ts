import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { text } from "node:stream/consumers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LocalStorage } from "./local-storage.js";
import { ObjectNotFoundError, StorageKeyError } from "./storage.js";

describe("LocalStorage", () => {
  let root: string;
  let storage: LocalStorage;
  beforeEach(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), "reelkit-storage-"));
    storage = new LocalStorage(root);
  });
  afterEach(() => fs.rm(root, { recursive: true, force: true }));

  it("writes, reads, ranges, stats, lists, moves and deletes objects", async () => {
    await storage.put("videos/a/hls/master.m3u8", "#EXTM3U\n");
    await storage.put("videos/a/poster.jpg", Readable.from([Buffer.from("jpegbytes")]));
    expect(await text(await storage.get("videos/a/poster.jpg", { start: 4, end: 7 }))).toBe("byte");
    expect((await storage.stat("videos/a/poster.jpg"))?.size).toBe(9);
    expect((await storage.list("videos/a/")).map((o) => o.key)).toEqual([
      "videos/a/hls/master.m3u8",
      "videos/a/poster.jpg",
    ]);
    await storage.move("videos/a/poster.jpg", "videos/b/poster.jpg");
    expect(await storage.stat("videos/a/poster.jpg")).toBeNull();
    await storage.deletePrefix("videos/a/");
    expect(await storage.list("videos/a/")).toEqual([]);
    expect((await storage.list("videos/")).map((o) => o.key)).toEqual(["videos/b/poster.jpg"]);
    await expect(storage.get("videos/a/hls/master.m3u8")).rejects.toBeInstanceOf(ObjectNotFoundError);
  });

  it.each(["../etc/passwd", "/abs", "a//b", "a/./b", "a\\b", ""])("refuses the key %j", (key) => {
    expect(() => storage.localPath(key)).toThrow(StorageKeyError);
  });

  it("leaves no partial object when a write stream fails", async () => {
    const failing = new Readable({
      read() {
        this.push("partial");
        this.destroy(new Error("client went away"));
      },
    });
    await expect(storage.put("videos/x/source", failing)).rejects.toThrow("client went away");
    expect(await storage.stat("videos/x/source")).toBeNull();
    expect(await fs.readdir(path.join(root, "videos/x"))).toEqual([]);
  });
});
