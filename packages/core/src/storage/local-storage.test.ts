import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { LocalStorage } from "./local-storage.js";
import { StorageKeyError } from "./storage.js";
import { storageContract } from "./storage-contract.js";

async function openLocal() {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), "reelkit-storage-"));
  return { storage: new LocalStorage(root), close: () => fs.rm(root, { recursive: true, force: true }) };
}

describe("LocalStorage", () => {
  storageContract(openLocal);

  it.each(["../etc/passwd", "/abs", "a//b", "a/./b", "a\\b", ""])("has no path for the key %j", (key) => {
    expect(() => new LocalStorage("/srv/media").localPath(key)).toThrow(StorageKeyError);
  });

  it("copies by hard link on one filesystem (no second copy of a multi-GB source)", async () => {
    const { storage, close } = await openLocal();
    try {
      await storage.put("uploads/u", "bytes");
      await storage.copy("uploads/u", "videos/v/source");
      const [a, b] = await Promise.all(["uploads/u", "videos/v/source"].map((k) => fs.stat(storage.localPath(k))));
      expect(a?.ino).toBe(b?.ino);
      expect(await fs.readdir(path.join(storage.root, "videos/v"))).toEqual(["source"]);
    } finally {
      await close();
    }
  });
});
