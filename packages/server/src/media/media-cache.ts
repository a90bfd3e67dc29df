import { LRUCache } from "lru-cache";
import { atMostEntries } from "../lru-bounds.js";

export type MediaVisibility = "PUBLIC" | "UNLISTED" | "PRIVATE";

/** What `/media` needs to know of a video to serve its files. */
export interface MediaVideoState {
  visibility: MediaVisibility;
  /** READY: its files no longer change until the next change to the video. */
  ready: boolean;
}

/** A small file held in memory, with the validators it was read with. */
export interface CachedFile {
  body: Buffer;
  etag: string;
  modifiedAt: Date;
}

export interface MediaCacheOptions {
  /** Bytes of files held at most (least recently used go first). */
  maxBytes?: number;
  /** Largest file held; larger ones are read from storage every time. */
  maxFileBytes?: number;
  /** Longest an entry lives, in ms: a backstop should an invalidation be lost. */
  ttlMs?: number;
}

/** Playlists, init sections, WebVTT and images: read often, a few KiB each. Segments never. */
const SMALL_FILE = /(?:\.m3u8|\/init\.mp4|\.vtt|\.jpg|\.webp)$/;

/** Whether a key is one `/media` answers from memory (when its video is READY). */
export function isSmallFileKey(key: string): boolean {
  return SMALL_FILE.test(key);
}

/**
 * The in-memory side of `/media`: each video's access state (visibility, READY) and the bytes of
 * its small files, both dropped on any change to the video, made by this instance or another
 * (the catalog's change feed), the way the catalog's own cache is kept. A read that overlapped an
 * invalidation is not stored, so what was read before a change is not served after it. Only files
 * of READY videos are held: while a video is processed its playlists grow without a catalog
 * change. The access decision itself (signature, visibility) is made on every request before
 * anything is looked up here: a cached file is never a reason to skip it.
 */
export class MediaCache {
  private readonly states: LRUCache<string, { state: MediaVideoState | null }>;
  private readonly files: LRUCache<string, CachedFile>;
  /** Keys held per video, so that a change drops exactly that video's files. */
  private readonly keysByVideo = new Map<string, Set<string>>();
  private readonly maxFileBytes: number;
  /** Bumped by every invalidation; a load stores its result only if this did not move meanwhile. */
  private generation = 0;

  constructor(options: MediaCacheOptions = {}) {
    const ttl = options.ttlMs ?? 60_000;
    this.maxFileBytes = options.maxFileBytes ?? 1024 * 1024;
    this.states = new LRUCache({ ...atMostEntries(10_000), ttl });
    this.files = new LRUCache<string, CachedFile>({
      maxSize: options.maxBytes ?? 64 * 1024 * 1024,
      sizeCalculation: (file) => Math.max(1, file.body.length),
      ttl,
      dispose: (_file, key) => {
        const videoId = videoIdOfKey(key);
        const set = this.keysByVideo.get(videoId);
        set?.delete(key);
        if (set?.size === 0) this.keysByVideo.delete(videoId);
      },
    });
  }

  /** The video's state from the cache, or loaded (and cached unless a change raced the load). */
  async state(videoId: string, load: () => Promise<MediaVideoState | null>): Promise<MediaVideoState | null> {
    const hit = this.states.get(videoId);
    if (hit) return hit.state;
    const generation = this.generation;
    const state = await load();
    if (generation === this.generation) this.states.set(videoId, { state });
    return state;
  }

  /** Whether a file of this size may be held. */
  fits(size: number): boolean {
    return size <= this.maxFileBytes;
  }

  file(key: string): CachedFile | undefined {
    return this.files.get(key);
  }

  /** The invalidation generation now: pass it to `storeFile` after reading. */
  get currentGeneration(): number {
    return this.generation;
  }

  /** Holds a file read while the cache was at `generation`; dropped if a change came meanwhile. */
  storeFile(key: string, file: CachedFile, generation: number): void {
    if (generation !== this.generation || !this.fits(file.body.length)) return;
    this.files.set(key, file);
    const videoId = videoIdOfKey(key);
    let set = this.keysByVideo.get(videoId);
    if (!set) {
      set = new Set();
      this.keysByVideo.set(videoId, set);
    }
    set.add(key);
  }

  /** A video changed (null: any may have, the feed reconnected): forget what is known of it. */
  invalidate(videoId: string | null): void {
    this.generation++;
    if (videoId === null) {
      this.states.clear();
      this.files.clear();
      this.keysByVideo.clear();
      return;
    }
    this.states.delete(videoId);
    for (const key of [...(this.keysByVideo.get(videoId) ?? [])]) this.files.delete(key);
    this.keysByVideo.delete(videoId);
  }
}

/** `videos/<id>/…` → `<id>`. */
function videoIdOfKey(key: string): string {
  return key.split("/")[1] ?? "";
}
