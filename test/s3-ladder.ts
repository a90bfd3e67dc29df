import { text } from "node:stream/consumers";
import HLS from "hls-parser";
import { expect } from "vitest";
import type { TestBucket } from "./s3.js";

/**
 * Asserts that a READY video's whole ladder is in the bucket: the master playlist names
 * `variants` media playlists, each a finished (VOD) playlist whose init section and segments
 * are all stored, plus the audio rendition (when `audio`), poster and storyboard. Returns the
 * keys stored under `videos/<id>/`.
 */
export async function expectLadderInBucket(
  bucket: TestBucket,
  videoId: string,
  opts: { variants: number; audio: boolean },
): Promise<string[]> {
  const prefix = `videos/${videoId}/`;
  const stored = new Set((await bucket.storage.list(prefix)).map((o) => o.key));
  for (const name of ["source", "hls/master.m3u8", "poster.jpg", "storyboard.jpg", "storyboard.vtt"]) {
    expect(stored.has(`${prefix}${name}`), `${prefix}${name} is stored`).toBe(true);
  }
  const read = async (key: string) => text(await bucket.storage.get(key));
  const master = HLS.parse(await read(`${prefix}hls/master.m3u8`));
  if (!master.isMasterPlaylist) throw new Error(`${prefix}hls/master.m3u8 is not a master playlist`);
  expect(master.variants).toHaveLength(opts.variants);
  const playlists = master.variants.map((v) => v.uri);
  if (opts.audio) playlists.push("audio/index.m3u8");
  for (const uri of playlists) {
    const key = `${prefix}hls/${uri}`;
    const media = HLS.parse(await read(key));
    if (media.isMasterPlaylist) throw new Error(`${key} is not a media playlist`);
    expect(media.endlist, `${key} is finished`).toBe(true);
    expect(media.segments.length, `${key} has segments`).toBeGreaterThan(0);
    const dir = key.slice(0, key.lastIndexOf("/") + 1);
    expect(stored.has(`${dir}init.mp4`), `${dir}init.mp4 is stored`).toBe(true);
    for (const s of media.segments) expect(stored.has(`${dir}${s.uri}`), `${dir}${s.uri} is stored`).toBe(true);
  }
  return [...stored];
}
