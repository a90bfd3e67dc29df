import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ChunkFileWriter, releaseChunk } from "./chunk-file-writer.js";

describe("ChunkFileWriter", () => {
  let dir: string;
  let file: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "reelkit-chunk-writer-"));
    file = path.join(dir, "upload");
  });
  afterEach(() => fs.rm(dir, { recursive: true, force: true }));

  it("writes the chunks into the file from the offset, byte-exact, and reports the offset after them", async () => {
    const head = randomBytes(1000);
    await fs.writeFile(file, head);
    const chunks = Array.from({ length: 40 }, (_, i) => randomBytes(1 + i * 977));
    const expected = Buffer.concat([head.subarray(0, 300), ...chunks]);
    const writer = new ChunkFileWriter(file, 300);
    await pipeline(Readable.from(chunks.map((c) => Buffer.from(c))), writer);
    expect(writer.offset).toBe(expected.length);
    expect((await fs.readFile(file)).equals(expected)).toBe(true);
  });

  it("gives back the memory of each chunk that owns its buffer once written, and leaves shared buffers alone", async () => {
    await fs.writeFile(file, "");
    const owned = Buffer.from(randomBytes(64 * 1024));
    const big = randomBytes(4096);
    const slice = big.subarray(1024, 2048);
    const pooled = Buffer.from("a small chunk from Buffer's pool");
    expect(pooled.buffer.byteLength).toBeGreaterThan(pooled.length);
    const expected = Buffer.concat([owned, slice, pooled]);
    await pipeline(Readable.from([owned, slice, pooled]), new ChunkFileWriter(file, 0));
    expect((await fs.readFile(file)).equals(expected)).toBe(true);
    // The owned chunk's buffer is detached (its memory freed); the others still read as before.
    expect(owned.length).toBe(0);
    expect((owned.buffer as ArrayBuffer & { detached: boolean }).detached).toBe(true);
    expect(slice.length).toBe(1024);
    expect(pooled.toString()).toBe("a small chunk from Buffer's pool");
    expect(big.subarray(1024, 2048).equals(expected.subarray(64 * 1024, 64 * 1024 + 1024))).toBe(true);
  });

  it("fails with the file system's error when the file is missing (an upload's file is made at its creation)", async () => {
    const writer = new ChunkFileWriter(path.join(dir, "absent"), 0);
    await expect(pipeline(Readable.from([Buffer.from("x")]), writer)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("releaseChunk ignores a buffer already detached", () => {
    const chunk = Buffer.alloc(100, 1);
    releaseChunk(chunk);
    expect(() => releaseChunk(chunk)).not.toThrow();
    expect(chunk.length).toBe(0);
  });
});
