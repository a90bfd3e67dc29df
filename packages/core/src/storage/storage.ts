import type { Readable, Writable } from "node:stream";

export interface StoredObject {
  key: string;
  size: number;
  modifiedAt: Date;
  /** An opaque version tag (S3 ETag, or size + mtime on disk), for HTTP validators. */
  etag?: string;
}

/**
 * An object opened for reading: its metadata now, its bytes when asked. Whoever opens it either
 * reads it (the stream releases what it holds when it ends or is destroyed) or closes it.
 */
export interface OpenedObject extends StoredObject {
  /** The bytes, optionally a range (inclusive end); call at most once (or `writeTo` once). */
  read(range?: { start: number; end?: number }): Promise<Readable>;
  /**
   * When the backend can: writes the bytes (or a range) into `target` itself with reused read
   * buffers instead of a stream that allocates one per chunk (local files). Resolves once
   * everything was written — the caller then ends `target` — or once `target` closed early;
   * rejects when the object cannot be read. Releases the object in every case.
   */
  writeTo?(target: Writable, range?: { start: number; end?: number }): Promise<void>;
  /** Releases the object without reading it (a HEAD, an unsatisfiable range). */
  close(): Promise<void>;
}

/** Headers an object is stored with; derived from the key (`objectHeaders`) when absent. */
export interface PutOptions {
  contentType?: string;
  cacheControl?: string;
}

/**
 * Object storage with the same keys on disk and in S3 (see DESIGN: storage layout); the only
 * way to the bytes of uploads, sources, renditions and images.
 * Keys are `/`-separated, relative, and never contain `..`.
 */
export interface Storage {
  /** Writes a whole object from a stream, buffer or string; readers never see a partial object. */
  put(key: string, body: Readable | Buffer | string, opts?: PutOptions): Promise<void>;
  /** Copies a local file into storage (ffmpeg output). */
  putFile(key: string, localPath: string, opts?: PutOptions): Promise<void>;
  /** Reads an object, optionally a byte range (inclusive end). Throws ObjectNotFoundError if absent. */
  get(key: string, range?: { start: number; end?: number }): Promise<Readable>;
  /** Downloads an object to a local file (ffmpeg needs a seekable input). */
  getToFile(key: string, localPath: string): Promise<void>;
  stat(key: string): Promise<StoredObject | null>;
  /**
   * Metadata and bytes of one object in one step, null when absent (media delivery: on disk one
   * open file descriptor, so the size sent is the size read even if the file is replaced).
   */
  open(key: string): Promise<OpenedObject | null>;
  /** Copies an object to a new key, replacing it (a hard link on disk, a server-side copy in S3). */
  copy(fromKey: string, toKey: string): Promise<void>;
  /** Moves an object to a new key (a rename on disk, copy + delete in S3). */
  move(fromKey: string, toKey: string): Promise<void>;
  /** Deletes one object; absent is not an error. */
  delete(key: string): Promise<void>;
  /** Deletes every object under a prefix (e.g. `videos/<id>/`). */
  deletePrefix(prefix: string): Promise<void>;
  list(prefix: string): Promise<StoredObject[]>;
  /** Local filesystem path of an object when the backend is a directory, else null. */
  localPath(key: string): string | null;
}

export class StorageKeyError extends Error {
  constructor(key: string) {
    super(`invalid storage key: ${JSON.stringify(key)}`);
    this.name = "StorageKeyError";
  }
}

export class ObjectNotFoundError extends Error {
  constructor(readonly key: string) {
    super(`no object at ${key}`);
    this.name = "ObjectNotFoundError";
  }
}

/** Rejects absolute keys, `..`/`.` segments, backslashes and NUL: keys map 1:1 to paths. */
export function assertValidKey(key: string): void {
  if (
    key.length === 0 ||
    key.startsWith("/") ||
    key.includes("\\") ||
    key.includes("\0") ||
    key.split("/").some((seg) => seg === "" || seg === "." || seg === "..")
  ) {
    throw new StorageKeyError(key);
  }
}

export const keys = {
  upload: (uploadId: string) => `uploads/${uploadId}`,
  uploadsPrefix: "uploads/",
  videoPrefix: (videoId: string) => `videos/${videoId}/`,
  source: (videoId: string) => `videos/${videoId}/source`,
  hlsPrefix: (videoId: string) => `videos/${videoId}/hls/`,
  master: (videoId: string) => `videos/${videoId}/hls/master.m3u8`,
  poster: (videoId: string) => `videos/${videoId}/poster.jpg`,
  storyboard: (videoId: string) => `videos/${videoId}/storyboard.jpg`,
  storyboardVtt: (videoId: string) => `videos/${videoId}/storyboard.vtt`,
  /** A user's avatar; each upload has a new name, so its URL can be cached for good. */
  avatar: (userId: string, name: string) => `avatars/${userId}/${name}.jpg`,
};
