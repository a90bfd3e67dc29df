import fsCallback, { createReadStream, createWriteStream, type Stats } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { READ_CHUNK, writeFileRange } from "./file-writer.js";
import { assertValidKey, ObjectNotFoundError, type OpenedObject, type Storage, type StoredObject } from "./storage.js";

/**
 * Objects as files under one root directory; writes go to a temp file and are renamed in.
 * Content-Type and Cache-Control are not stored: `/media` derives them from the key.
 */
export class LocalStorage implements Storage {
  constructor(readonly root: string) {}

  localPath(key: string): string {
    assertValidKey(key);
    return path.join(this.root, ...key.split("/"));
  }

  async put(key: string, body: Readable | Buffer | string): Promise<void> {
    const target = this.localPath(key);
    await fs.mkdir(path.dirname(target), { recursive: true });
    const tmp = `${target}.${process.pid}.${Date.now()}.tmp`;
    try {
      if (typeof body === "string" || Buffer.isBuffer(body)) await fs.writeFile(tmp, body);
      else await pipeline(body, createWriteStream(tmp));
      await fs.rename(tmp, target);
    } catch (err) {
      await fs.rm(tmp, { force: true });
      throw err;
    }
  }

  async putFile(key: string, localPath: string): Promise<void> {
    const target = this.localPath(key);
    if (path.resolve(localPath) === target) return;
    await fs.mkdir(path.dirname(target), { recursive: true });
    const tmp = `${target}.${process.pid}.${Date.now()}.tmp`;
    await fs.copyFile(localPath, tmp);
    await fs.rename(tmp, target);
  }

  async copy(fromKey: string, toKey: string): Promise<void> {
    const from = this.localPath(fromKey);
    const target = this.localPath(toKey);
    if (from === target) return;
    await fs.mkdir(path.dirname(target), { recursive: true });
    const tmp = `${target}.${process.pid}.${Date.now()}.tmp`;
    try {
      // A hard link costs nothing on one filesystem; a copy where links are not possible.
      await fs.link(from, tmp).catch(async (err: NodeJS.ErrnoException) => {
        if (err.code === "ENOENT") throw new ObjectNotFoundError(fromKey);
        await fs.copyFile(from, tmp);
      });
      await fs.rename(tmp, target);
    } catch (err) {
      await fs.rm(tmp, { force: true });
      throw err;
    }
  }

  async get(key: string, range?: { start: number; end?: number }): Promise<Readable> {
    const file = this.localPath(key);
    try {
      await fs.access(file);
    } catch {
      throw new ObjectNotFoundError(key);
    }
    return createReadStream(file, range ? { start: range.start, end: range.end } : undefined);
  }

  async getToFile(key: string, localPath: string): Promise<void> {
    await fs.mkdir(path.dirname(localPath), { recursive: true });
    await pipeline(await this.get(key), createWriteStream(localPath));
  }

  async stat(key: string): Promise<StoredObject | null> {
    try {
      const s = await fs.stat(this.localPath(key));
      if (!s.isFile()) return null;
      return {
        key,
        size: s.size,
        modifiedAt: s.mtime,
        etag: etagOf(s.size, s.mtimeMs),
      };
    } catch {
      return null;
    }
  }

  async open(key: string): Promise<OpenedObject | null> {
    // Callback fs on a plain descriptor: media delivery opens a file per request, and the promise
    // API's FileHandle costs more than the read itself for small files.
    const file = this.localPath(key);
    let fd: number;
    try {
      fd = await new Promise<number>((resolve, reject) =>
        fsCallback.open(file, "r", (err, opened) => (err ? reject(err) : resolve(opened))),
      );
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR" || code === "EISDIR") return null;
      throw err;
    }
    const release = () => new Promise<void>((resolve) => fsCallback.close(fd, () => resolve()));
    let s: Stats;
    try {
      s = await new Promise<Stats>((resolve, reject) =>
        fsCallback.fstat(fd, (err, stats) => (err ? reject(err) : resolve(stats))),
      );
    } catch (err) {
      await release();
      throw err;
    }
    if (!s.isFile()) {
      await release();
      return null;
    }
    return {
      key,
      size: s.size,
      modifiedAt: s.mtime,
      etag: etagOf(s.size, s.mtimeMs),
      read: async (range) => {
        const start = range?.start ?? 0;
        const length = (range?.end ?? s.size - 1) - start + 1;
        // Never a read buffer larger than what is sent: a playlist costs its own size, not 64 KiB.
        const highWaterMark = Math.max(1, Math.min(READ_CHUNK, length));
        // Without a range it reads to the end (an empty file included).
        return createReadStream(file, { fd, start, end: range?.end, highWaterMark, autoClose: true });
      },
      writeTo: (target, range) =>
        writeFileRange(fd, target, range?.start ?? 0, Math.min(range?.end ?? s.size - 1, s.size - 1)),
      close: release,
    };
  }

  async move(fromKey: string, toKey: string): Promise<void> {
    const from = this.localPath(fromKey);
    const to = this.localPath(toKey);
    await fs.mkdir(path.dirname(to), { recursive: true });
    try {
      await fs.rename(from, to);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") throw new ObjectNotFoundError(fromKey);
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    await fs.rm(this.localPath(key), { force: true });
  }

  async deletePrefix(prefix: string): Promise<void> {
    const trimmed = prefix.replace(/\/+$/, "");
    await fs.rm(this.localPath(trimmed), { recursive: true, force: true });
  }

  async list(prefix: string): Promise<StoredObject[]> {
    const dir = this.localPath(prefix.replace(/\/+$/, ""));
    const out: StoredObject[] = [];
    const walk = async (abs: string): Promise<void> => {
      let entries: import("node:fs").Dirent[];
      try {
        entries = await fs.readdir(abs, { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) {
        const p = path.join(abs, e.name);
        if (e.isDirectory()) await walk(p);
        else if (e.isFile() && !e.name.endsWith(".tmp")) {
          const s = await fs.stat(p);
          out.push({ key: path.relative(this.root, p).split(path.sep).join("/"), size: s.size, modifiedAt: s.mtime });
        }
      }
    };
    await walk(dir);
    return out.sort((a, b) => a.key.localeCompare(b.key));
  }
}

function etagOf(size: number, mtimeMs: number): string {
  return `${size.toString(16)}-${Math.floor(mtimeMs).toString(16)}`;
}
