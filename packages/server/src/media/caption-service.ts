import { createHash } from "node:crypto";
import { keys, type Rendition, type Storage } from "@reelkit/core";
import type { CaptionKind } from "@reelkit/sdk/contract";
import type { Video } from "../generated/prisma/client.js";
import {
  type CaptionFormat,
  CaptionParseError,
  decodeCaptionFile,
  parseCaptions,
  type SubtitleRendition,
  segmentCaptions,
  writeWebVtt,
} from "./captions.js";

/** A text track as the video row keeps it (`video.captions`). */
export interface StoredCaption {
  language: string;
  label: string;
  kind: CaptionKind;
  isDefault: boolean;
  /** Storage prefix of this version of the track, relative to the video: `hls/subtitles/<lang>-<version>`. */
  dir: string;
  cueCount: number;
  createdAt: string;
}

/** Where a track's files are, under its version directory. */
export const TRACK_PLAYLIST = "index.m3u8";
export const TRACK_FILE = "track.vtt";

/** Largest caption file accepted (bytes). */
export const MAX_CAPTION_BYTES = 2 * 1024 * 1024;

export class CaptionError extends Error {
  constructor(
    readonly reason: "invalid" | "not-ready" | "not-found",
    message: string,
  ) {
    super(message);
    this.name = "CaptionError";
  }
}

export interface AddCaptionInput {
  language: string;
  label?: string;
  kind?: CaptionKind;
  isDefault?: boolean;
  format: CaptionFormat;
  body: Buffer;
}

/** The catalog operations tracks need (VideoEdits and the cached read). */
export interface CaptionCatalog {
  get(id: string): Promise<Video | null>;
  updateList<T>(id: string, column: "captions", change: (current: T[], video: Video) => T[]): Promise<Video | null>;
}

export function storedCaptions(v: Pick<Video, "captions">): StoredCaption[] {
  return (Array.isArray(v.captions) ? v.captions : []) as unknown as StoredCaption[];
}

/** The master playlist's SUBTITLES renditions of a video's tracks (URIs relative to `hls/`). */
export function subtitleRenditions(tracks: readonly StoredCaption[]): SubtitleRendition[] {
  return tracks.map((t) => ({
    language: t.language,
    label: t.label,
    kind: t.kind,
    isDefault: t.isDefault,
    uri: `${t.dir.replace(/^hls\//, "")}/${TRACK_PLAYLIST}`,
  }));
}

/**
 * Adds, replaces and deletes a video's text tracks. A track is written to storage beside the
 * ladder (`videos/<id>/hls/subtitles/<lang>-<version>/`: the WebVTT file, one segment per media
 * segment of the top rendition, their playlist) before the catalog names it, under a new
 * version directory each time, so cached segments are never stale; the version it replaced is
 * deleted after. Nothing is transcoded: the master playlist gains the track when it is served.
 */
export class CaptionService {
  constructor(
    private readonly storage: Storage,
    private readonly catalog: CaptionCatalog,
  ) {}

  async add(video: Video, input: AddCaptionInput): Promise<{ video: Video; track: StoredCaption }> {
    if (input.body.length > MAX_CAPTION_BYTES) {
      throw new CaptionError("invalid", `Caption files are limited to ${MAX_CAPTION_BYTES} bytes`);
    }
    if (video.status !== "READY" || !video.masterKey) {
      throw new CaptionError("not-ready", "Tracks can be added once the video is READY");
    }
    let cues: ReturnType<typeof parseCaptions>;
    try {
      cues = parseCaptions(decodeCaptionFile(input.body), input.format);
    } catch (err) {
      if (err instanceof CaptionParseError) throw new CaptionError("invalid", err.message);
      throw err;
    }
    const media = await this.topRenditionSegments(video);
    const { playlist, segments } = segmentCaptions(cues, media);
    const whole = writeWebVtt(cues);
    const version = createHash("sha256").update(whole).update(String(Date.now())).digest("hex").slice(0, 10);
    const dir = `hls/subtitles/${input.language}-${version}`;
    const prefix = `${keys.videoPrefix(video.id)}${dir}`;
    // Segments and the whole file first, the playlist naming them last.
    for (const s of segments) await this.storage.put(`${prefix}/${s.name}`, s.text);
    await this.storage.put(`${prefix}/${TRACK_FILE}`, whole);
    await this.storage.put(`${prefix}/${TRACK_PLAYLIST}`, playlist);
    const track: StoredCaption = {
      language: input.language,
      label: input.label ?? input.language,
      kind: input.kind ?? "subtitles",
      isDefault: input.isDefault ?? false,
      dir,
      cueCount: cues.length,
      createdAt: new Date().toISOString(),
    };
    let replaced: StoredCaption | undefined;
    let updated: Video | null;
    try {
      updated = await this.catalog.updateList<StoredCaption>(video.id, "captions", (current) => {
        replaced = current.find((t) => t.language === track.language);
        const others = current
          .filter((t) => t.language !== track.language)
          .map((t) => (track.isDefault ? { ...t, isDefault: false } : t));
        return [...others, track].sort((a, b) => a.language.localeCompare(b.language));
      });
    } catch (err) {
      await this.storage.deletePrefix(`${prefix}/`);
      throw err;
    }
    if (!updated) {
      await this.storage.deletePrefix(`${prefix}/`);
      throw new CaptionError("not-found", `No video with id ${video.id}`);
    }
    if (replaced) await this.storage.deletePrefix(`${keys.videoPrefix(video.id)}${replaced.dir}/`);
    return { video: updated, track };
  }

  /** Removes one language's track; false when the video has none in that language. */
  async remove(video: Video, language: string): Promise<boolean> {
    let removed: StoredCaption | undefined;
    await this.catalog.updateList<StoredCaption>(video.id, "captions", (current) => {
      removed = current.find((t) => t.language === language);
      return current.filter((t) => t.language !== language);
    });
    if (!removed) return false;
    await this.storage.deletePrefix(`${keys.videoPrefix(video.id)}${removed.dir}/`);
    return true;
  }

  /** The EXTINF durations of the highest rendition's (finished) media playlist. */
  private async topRenditionSegments(video: Video): Promise<{ duration: number }[]> {
    const renditions = (Array.isArray(video.renditions) ? video.renditions : []) as unknown as Rendition[];
    const top = [...renditions].sort((a, b) => b.height - a.height)[0];
    if (!top) throw new CaptionError("not-ready", "The video has no renditions yet");
    const chunks: Buffer[] = [];
    for await (const c of await this.storage.get(top.playlistKey)) chunks.push(Buffer.from(c));
    const durations: { duration: number }[] = [];
    for (const line of Buffer.concat(chunks).toString("utf8").split(/\r?\n/)) {
      if (line.startsWith("#EXTINF:")) durations.push({ duration: Number.parseFloat(line.slice(8)) });
    }
    if (durations.length === 0) throw new CaptionError("not-ready", "The video's playlists have no segments");
    return durations;
  }
}
