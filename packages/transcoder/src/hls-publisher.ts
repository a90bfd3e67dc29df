import fs from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import type { Storage } from "@reelkit/core";
import { type MediaSegment, parseGrowingPlaylist, parseMediaPlaylist, writeMediaPlaylist } from "./playlist.js";

export interface PublishedRendition {
  /** Directory name under the local output and the storage prefix, e.g. "720p" or "audio". */
  name: string;
  /** EXT-X-TARGETDURATION: an upper bound of every segment of this rendition. */
  targetDuration: number;
}

interface RenditionState {
  /** Complete segments ffmpeg has listed so far (never shrinks). */
  segments: MediaSegment[];
  /** How many of them are stored. */
  stored: number;
  /** How many segments the stored playlist names (from an earlier delivery too). */
  listed: number;
  initStored: boolean;
  /** Date.now() when its first segment was listed in storage (null until then). */
  firstListedAt: number | null;
}

async function readText(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * Copies ffmpeg's HLS output from a local directory to storage while ffmpeg writes it, in an
 * order that keeps every stored playlist valid: a rendition's init section, then each new
 * segment, and only then the media playlist that names them. Playlists are EVENT playlists
 * that only grow; `sync({ final: true })` appends EXT-X-ENDLIST.
 *
 * A redelivered job overwrites the same keys with the same segments (same cuts, same names),
 * and keeps an already stored playlist until the new output has more segments than it names:
 * a player that loaded it never sees it shrink or name a segment that is not there.
 */
export class HlsPublisher {
  private readonly state = new Map<string, RenditionState>();
  private readonly written = new Set<string>();

  constructor(
    private readonly opts: {
      storage: Storage;
      /** Local directory ffmpeg writes `<name>/index.m3u8`, `init.mp4`, `seg-NNN.m4s` into. */
      localDir: string;
      /** Storage prefix, `videos/<id>/hls/`. */
      prefix: string;
      renditions: readonly PublishedRendition[];
    },
  ) {
    for (const r of opts.renditions)
      this.state.set(r.name, { segments: [], stored: 0, listed: 0, initStored: false, firstListedAt: null });
  }

  /** Reads how many segments the playlists stored by an earlier delivery of the job name. */
  async resume(): Promise<void> {
    await Promise.all(
      this.opts.renditions.map(async (r) => {
        const st = this.state.get(r.name) as RenditionState;
        const key = this.playlistKey(r.name);
        if (!(await this.opts.storage.stat(key))) return;
        const text = await this.opts.storage.get(key).then(readText, () => "");
        st.listed = parseMediaPlaylist(text).length;
      }),
    );
  }

  /** True once every rendition has its init section and first segment stored and listed. */
  started(): boolean {
    return [...this.state.values()].every((s) => s.stored > 0 && s.listed > 0);
  }

  /** When each rendition's first segment was first named by a stored playlist (ms epoch). */
  firstListedAt(): Record<string, number | null> {
    return Object.fromEntries([...this.state].map(([name, s]) => [name, s.firstListedAt]));
  }

  /** Every key this publisher has written. */
  keys(): ReadonlySet<string> {
    return this.written;
  }

  /** Duration and size of each stored segment of a rendition (for the measured master). */
  segments(name: string): readonly MediaSegment[] {
    return this.state.get(name)?.segments ?? [];
  }

  /** Stores what ffmpeg has completed since the last call; `final` once ffmpeg has exited. */
  async sync(opts: { final: boolean }): Promise<void> {
    await Promise.all(this.opts.renditions.map((r) => this.syncRendition(r, opts.final)));
  }

  private playlistKey(name: string): string {
    return `${this.opts.prefix}${name}/index.m3u8`;
  }

  private async put(key: string, file: string): Promise<void> {
    await this.opts.storage.putFile(key, file);
    this.written.add(key);
  }

  private async syncRendition(r: PublishedRendition, final: boolean): Promise<void> {
    const st = this.state.get(r.name) as RenditionState;
    const dir = path.join(this.opts.localDir, r.name);
    const text = await fs.readFile(path.join(dir, "index.m3u8"), "utf8").catch(() => "");
    // ffmpeg rewrites its playlist after each segment: a read may catch it half-written.
    const listed = final ? parseMediaPlaylist(text) : parseGrowingPlaylist(text);
    if (listed.length > st.segments.length || final) st.segments = listed;
    if (st.segments.length > st.stored && !st.initStored) {
      await this.put(`${this.opts.prefix}${r.name}/init.mp4`, path.join(dir, "init.mp4"));
      st.initStored = true;
    }
    for (; st.stored < st.segments.length; st.stored++) {
      const seg = st.segments[st.stored] as MediaSegment;
      await this.put(`${this.opts.prefix}${r.name}/${seg.uri}`, path.join(dir, seg.uri));
    }
    if (final) {
      // The muxer may rewrite the init section when it closes; store its last version.
      await this.put(`${this.opts.prefix}${r.name}/init.mp4`, path.join(dir, "init.mp4"));
    } else if (st.stored <= st.listed) {
      return;
    }
    const body = writeMediaPlaylist({ segments: st.segments, targetDuration: r.targetDuration, ended: final });
    await this.opts.storage.put(this.playlistKey(r.name), body);
    this.written.add(this.playlistKey(r.name));
    st.listed = Math.max(st.listed, st.stored);
    st.firstListedAt ??= Date.now();
  }
}
