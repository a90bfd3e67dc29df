import { readFile } from "node:fs/promises";
import type { Readable } from "node:stream";
import type { OpenedObject, PutOptions, Storage, StoredObject } from "@reelkit/core";

/** Segments (and the init section) a playlist names, resolved to storage keys, with durations. */
function named(key: string, text: string): { keys: string[]; segments: { uri: string; duration: number }[] } {
  const dir = key.slice(0, key.lastIndexOf("/") + 1);
  const keys: string[] = [];
  const segments: { uri: string; duration: number }[] = [];
  let duration: number | null = null;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    const map = /^#EXT-X-MAP:URI="([^"]+)"/.exec(line) ?? /^#EXT-X-MEDIA:.*URI="([^"]+)"/.exec(line);
    if (map?.[1]) keys.push(dir + map[1]);
    if (line.startsWith("#EXTINF:")) duration = Number.parseFloat(line.slice(8));
    else if (line && !line.startsWith("#")) {
      keys.push(dir + line);
      if (duration !== null) segments.push({ uri: line, duration });
      duration = null;
    }
  }
  return { keys, segments };
}

async function text(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * Storage (over a real one) that checks HLS publishing as a player fetching at any moment would
 * see it, at the instant of every write and delete:
 * - a playlist (master or media) is stored only when everything it names is stored;
 * - a stored media playlist only grows: each version begins with the segments of the one before,
 *   same names, same durations;
 * - nothing a stored playlist names is deleted (playlists go first).
 * Every breach is recorded in `violations`. `failPut` makes chosen writes fail (an outage).
 */
export class HlsAuditStorage implements Storage {
  readonly violations: string[] = [];
  /** Return true to make this put fail (checked before the write). */
  failPut: ((key: string) => boolean) | null = null;
  readonly failedPuts: string[] = [];
  private readonly versions = new Map<string, { uri: string; duration: number }[]>();

  constructor(private readonly inner: Storage) {}

  private async checkWrite(key: string, body: string | null): Promise<void> {
    if (this.failPut?.(key)) {
      this.failedPuts.push(key);
      throw new Error(`injected storage failure writing ${key}`);
    }
    if (body === null || !key.endsWith(".m3u8")) return;
    const { keys, segments } = named(key, body);
    for (const k of keys) if (!(await this.inner.stat(k))) this.violations.push(`${key} stored naming missing ${k}`);
    const before = this.versions.get(key);
    if (before) {
      const kept = before.every(
        (s, i) => segments[i]?.uri === s.uri && Math.abs((segments[i]?.duration ?? -1) - s.duration) < 0.001,
      );
      if (!kept)
        this.violations.push(`${key} rewritten without its earlier segments (${before.length} → ${segments.length})`);
    }
    if (!key.endsWith("master.m3u8")) this.versions.set(key, segments);
  }

  /** Stored playlists under `prefix` and what they name. */
  private async playlists(prefix: string): Promise<{ key: string; names: string[] }[]> {
    const objects = await this.inner.list(prefix);
    const out: { key: string; names: string[] }[] = [];
    for (const o of objects.filter((x) => x.key.endsWith(".m3u8"))) {
      const body = await this.inner.get(o.key).then(text, () => null);
      if (body !== null) out.push({ key: o.key, names: named(o.key, body).keys });
    }
    return out;
  }

  private async checkDelete(doomed: (key: string) => boolean, what: string): Promise<void> {
    const root = what.startsWith("videos/") ? what.split("/").slice(0, 2).join("/") : "";
    for (const p of await this.playlists(root)) {
      if (doomed(p.key)) {
        if (!what.endsWith("/")) continue; // deleting a playlist itself is fine
        this.violations.push(`${what} deleted while playlist ${p.key} is still stored`);
        continue;
      }
      for (const n of p.names) if (doomed(n)) this.violations.push(`deleted ${n} while ${p.key} names it`);
    }
    for (const k of this.versions.keys()) if (doomed(k)) this.versions.delete(k);
  }

  async put(key: string, body: Readable | Buffer | string, opts?: PutOptions): Promise<void> {
    await this.checkWrite(key, typeof body === "string" ? body : Buffer.isBuffer(body) ? body.toString("utf8") : null);
    await this.inner.put(key, body, opts);
  }

  async putFile(key: string, localPath: string, opts?: PutOptions): Promise<void> {
    await this.checkWrite(key, key.endsWith(".m3u8") ? await readFile(localPath, "utf8") : null);
    await this.inner.putFile(key, localPath, opts);
  }

  async delete(key: string): Promise<void> {
    await this.checkDelete((k) => k === key, key);
    await this.inner.delete(key);
  }

  async deletePrefix(prefix: string): Promise<void> {
    await this.checkDelete((k) => k.startsWith(prefix), prefix);
    await this.inner.deletePrefix(prefix);
  }

  get(key: string, range?: { start: number; end?: number }): Promise<Readable> {
    return this.inner.get(key, range);
  }
  getToFile(key: string, localPath: string): Promise<void> {
    return this.inner.getToFile(key, localPath);
  }
  stat(key: string): Promise<StoredObject | null> {
    return this.inner.stat(key);
  }
  open(key: string): Promise<OpenedObject | null> {
    return this.inner.open(key);
  }
  copy(fromKey: string, toKey: string): Promise<void> {
    return this.inner.copy(fromKey, toKey);
  }
  move(fromKey: string, toKey: string): Promise<void> {
    return this.inner.move(fromKey, toKey);
  }
  list(prefix: string): Promise<StoredObject[]> {
    return this.inner.list(prefix);
  }
  localPath(key: string): string | null {
    return this.inner.localPath(key);
  }
}
