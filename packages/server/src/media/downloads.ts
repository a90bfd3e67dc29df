import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { keys, type Rendition, type Storage } from "@reelkit/core";
import { runContained } from "@reelkit/transcoder";
import type { Video } from "../generated/prisma/client.js";

/** Storage key of a rendition's MP4 download, beside the ladder. */
export function downloadKey(videoId: string, rung: string): string {
  return `${keys.videoPrefix(videoId)}downloads/${rung}.mp4`;
}

/** The arguments that remux fMP4 video (and audio) into one MP4 without re-encoding, index first. */
export function remuxArgs(o: { video: string; audio: string | null; output: string }): string[] {
  const inputs = o.audio ? ["-i", o.video, "-i", o.audio] : ["-i", o.video];
  const maps = o.audio ? ["-map", "0:v:0", "-map", "1:a:0"] : ["-map", "0:v:0"];
  return [
    ...["-v", "error", "-nostdin", "-y"],
    ...inputs,
    ...maps,
    ...["-c", "copy", "-movflags", "+faststart", "-f", "mp4", o.output],
  ];
}

/** Init section and segment URIs of a media playlist, in order. */
export function playlistParts(text: string): string[] {
  const parts: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    const map = /^#EXT-X-MAP:URI="([^"]+)"/.exec(line);
    if (map) parts.push(map[1] as string);
    else if (line && !line.startsWith("#")) parts.push(line);
  }
  return parts;
}

/**
 * MP4 downloads of a READY video's renditions: the rung's fMP4 segments (and the audio
 * rendition's) remuxed with `+faststart`, never re-encoded, made once and stored beside the
 * ladder. Identical requests made while one is being made share it.
 */
export class DownloadService {
  private readonly inflight = new Map<string, Promise<string>>();

  constructor(private readonly o: { storage: Storage; ffmpeg: () => string; timeoutMs?: number }) {}

  /** The rung `quality` names, or the top one. Null when there is no such rung. */
  rendition(video: Video, quality?: string): Rendition | null {
    const renditions = (Array.isArray(video.renditions) ? video.renditions : []) as unknown as Rendition[];
    if (quality) return renditions.find((r) => r.name === quality) ?? null;
    return [...renditions].sort((a, b) => b.height - a.height)[0] ?? null;
  }

  mp4(video: Video, rung: Rendition): Promise<string> {
    const key = downloadKey(video.id, rung.name);
    const pending = this.inflight.get(key);
    if (pending) return pending;
    const made = this.make(video, rung, key).finally(() => this.inflight.delete(key));
    this.inflight.set(key, made);
    return made;
  }

  private async make(video: Video, rung: Rendition, key: string): Promise<string> {
    if (await this.o.storage.stat(key)) return key;
    const dir = await mkdtemp(path.join(os.tmpdir(), "reelkit-download-"));
    try {
      const videoFile = path.join(dir, "video.mp4");
      await this.concat(rung.playlistKey, videoFile);
      const audioKey = `${keys.hlsPrefix(video.id)}audio/index.m3u8`;
      let audioFile: string | null = null;
      if (await this.o.storage.stat(audioKey)) {
        audioFile = path.join(dir, "audio.mp4");
        await this.concat(audioKey, audioFile);
      }
      const output = path.join(dir, "out.mp4");
      await runContained({
        command: this.o.ffmpeg(),
        args: remuxArgs({ video: videoFile, audio: audioFile, output }),
        signal: AbortSignal.timeout(this.o.timeoutMs ?? 120_000),
      });
      await this.o.storage.putFile(key, output, { contentType: "video/mp4" });
      return key;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** Init section + every segment of a media playlist, as one fMP4 file. */
  private async concat(playlistKey: string, file: string): Promise<void> {
    const base = playlistKey.slice(0, playlistKey.lastIndexOf("/") + 1);
    const text = (await readAll(await this.o.storage.get(playlistKey))).toString("utf8");
    const chunks: Buffer[] = [];
    for (const part of playlistParts(text)) chunks.push(await readAll(await this.o.storage.get(base + part)));
    await writeFile(file, Buffer.concat(chunks));
  }
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks);
}
