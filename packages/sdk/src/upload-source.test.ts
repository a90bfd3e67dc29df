import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { prepareSource as prepareBrowserSource } from "./upload-source.browser.js";
import { prepareSource } from "./upload-source.js";

describe("upload sources", () => {
  it("Node: reads a path as a stream with the file's size, and a Uint8Array as a Buffer", async () => {
    const dir = await mkdtemp(join(tmpdir(), "reelkit-source-"));
    try {
      const path = join(dir, "a.mp4");
      await writeFile(path, "12345");
      const fromPath = await prepareSource(path);
      expect(fromPath.size).toBe(5);
      expect(fromPath.input).toHaveProperty("pipe");
      (fromPath.input as { destroy(): void }).destroy();
      const fromBytes = await prepareSource(new Uint8Array([1, 2, 3]).subarray(1));
      expect(fromBytes.size).toBe(2);
      expect(Buffer.isBuffer(fromBytes.input)).toBe(true);
      expect([...(fromBytes.input as Buffer)]).toEqual([2, 3]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("browser: takes a Blob as is and refuses what only Node can read", async () => {
    const blob = new Blob(["abc"]);
    expect(await prepareBrowserSource(blob)).toEqual({ input: blob, size: 3 });
    await expect(prepareBrowserSource("/tmp/clip.mp4")).rejects.toThrow(/File or Blob/);
    await expect(prepareBrowserSource(new Uint8Array(2))).rejects.toBeInstanceOf(TypeError);
  });
});
