import fs from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { FileStore } from "@tus/file-store";
import { ERRORS, isPathInsideDirectory, type Upload } from "@tus/utils";
import { ChunkFileWriter } from "./chunk-file-writer.js";

const INFO_SUFFIX = ".json";

function isNotFound(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | null)?.code === "ENOENT";
}

async function mtimeOf(file: string): Promise<number | null> {
  try {
    return (await fs.stat(file)).mtimeMs;
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
}

/**
 * @tus/file-store with Reelkit's lifetime rules:
 * - an upload expires `expirationPeriodInMilliseconds` after its last activity (the last byte
 *   written, else its creation), not after its creation, so a slow upload that keeps sending
 *   never expires under its client; tus reads `creation_date` for its expiry checks and the
 *   `Upload-Expires` header, so `getUpload` reports the last activity there;
 * - a finished upload stays until it expires too, so a client that lost the last PATCH response
 *   learns from HEAD that it is complete instead of uploading the file again;
 * - removal and the expiry sweep also take half-written leftovers of a crash (a data file
 *   without its `.json`, or a `.json` without its data file);
 * - the body's memory is given back chunk by chunk as it reaches the file (ChunkFileWriter), not
 *   when a collection gets to it.
 */
export class UploadFileStore extends FileStore {
  private readonly dir: string;

  constructor(opts: { directory: string; expirationPeriodInMilliseconds: number }) {
    super(opts);
    this.dir = opts.directory;
  }

  /** Writes the body into the upload's file from `offset`; resolves with the offset after it. */
  override async write(readable: Readable, id: string, offset: number): Promise<number> {
    const writer = new ChunkFileWriter(this.fileOf(id), offset);
    try {
      await pipeline(readable, writer);
    } catch {
      // What tus' own FileStore answers: the client resumes from the offset HEAD reports.
      throw ERRORS.FILE_WRITE_ERROR;
    }
    return writer.offset;
  }

  override async getUpload(id: string): Promise<Upload> {
    const upload = await super.getUpload(id);
    const written = await mtimeOf(this.fileOf(id));
    const created = upload.creation_date ? Date.parse(upload.creation_date) : 0;
    if (written !== null && written > created) upload.creation_date = new Date(written).toISOString();
    return upload;
  }

  /** Removes the data file and its `.json`; rejects with tus' FILE_NOT_FOUND only when neither existed. */
  override async remove(id: string): Promise<void> {
    const file = this.fileOf(id);
    const removed = await Promise.all([file, `${file}${INFO_SUFFIX}`].map((f) => this.unlinkIfPresent(f)));
    if (!removed.some(Boolean)) throw ERRORS.FILE_NOT_FOUND;
  }

  /** Removes every upload (finished or not, or half-written) whose last activity is older than the expiry period. */
  override async deleteExpired(): Promise<number> {
    const period = this.getExpiration();
    if (period <= 0) return 0;
    const expiredBefore = Date.now() - period;
    const ids = new Set<string>();
    for (const name of await fs.readdir(this.dir).catch(() => [] as string[])) {
      ids.add(name.endsWith(INFO_SUFFIX) ? name.slice(0, -INFO_SUFFIX.length) : name);
    }
    let removed = 0;
    for (const id of ids) {
      const file = this.fileOf(id);
      const times = await Promise.all([mtimeOf(file), mtimeOf(`${file}${INFO_SUFFIX}`)]);
      const lastActivity = Math.max(...times.map((t) => t ?? 0));
      if (lastActivity === 0 || lastActivity >= expiredBefore) continue;
      // Directories (none are made here) and foreign files are left alone.
      if ((await fs.stat(file).catch(() => null))?.isDirectory()) continue;
      await this.remove(id).catch(() => undefined);
      removed++;
    }
    return removed;
  }

  /** The data file of an upload (its info file is this plus `.json`). */
  private fileOf(id: string): string {
    const file = path.join(this.dir, id);
    if (!isPathInsideDirectory(this.dir, file)) throw ERRORS.FILE_NOT_FOUND;
    return file;
  }

  private async unlinkIfPresent(file: string): Promise<boolean> {
    try {
      await fs.unlink(file);
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }
}
