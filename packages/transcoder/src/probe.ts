import { accessSync, constants } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import type { Config } from "@reelkit/core";
import { FfmpegError, runContained } from "./ffmpeg-runner.js";

export interface Binaries {
  ffmpeg: string;
  ffprobe: string;
}

export interface ProbeResult {
  durationSec: number;
  /** Coded size of the first video stream (before rotation). */
  width: number;
  height: number;
  /** Clockwise display rotation in degrees, 0/90/180/270. */
  rotation: number;
  frameRate: number;
  hasAudio: boolean;
  /** The first video stream's coding, as ffprobe names it (decides passthrough). */
  video: VideoCoding;
  /** ffprobe's codec name of the first audio stream, e.g. "aac"; null when silent. */
  audioCodec: string | null;
}

export interface VideoCoding {
  /** e.g. "h264", "hevc", "vp9", "prores". */
  codec: string;
  /** e.g. "High", "Main", "Constrained Baseline"; "" when unknown. */
  profile: string;
  /** ffprobe's level: 41 for H.264 level 4.1; 0 when unknown. */
  level: number;
  /** e.g. "yuv420p", "yuv420p10le". */
  pixFmt: string;
  /** Bits per sample; 8 when ffprobe does not say and the pixel format has no depth suffix. */
  bitDepth: number;
}

/** `message` is shown to the video's owner; `detail` (ffprobe's own words, paths included) is for the log. */
export class ProbeError extends Error {
  constructor(
    readonly code: "UNDECODABLE" | "NO_VIDEO_STREAM",
    message: string,
    readonly detail?: string,
  ) {
    super(message);
    this.name = "ProbeError";
  }
}

/**
 * An ffmpeg/ffprobe message fit for the video's owner: without the file paths of the server
 * (`/data/media/videos/…/source: Invalid data found…` becomes `Invalid data found…`).
 */
export function withoutPaths(text: string): string {
  return text
    .replace(/^\S*[\\/]\S*?:\s+/, "")
    .replace(/(?:[A-Za-z]:)?(?:[\\/][^\s\\/:,'"()]+){2,}[\\/]?/g, "a file")
    .trim();
}

function onPath(name: string, envPath: string | undefined): string | null {
  for (const dir of (envPath ?? "").split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {}
  }
  return null;
}

/** `ffmpeg`/`ffprobe` on PATH, else FFMPEG_PATH/FFPROBE_PATH, else the npm-shipped binaries. */
export function resolveBinaries(
  config: Pick<Config, "ffmpegPath" | "ffprobePath">,
  envPath: string | undefined = process.env.PATH,
): Binaries {
  const require = createRequire(import.meta.url);
  const shipped = (pkg: string): string => (require(pkg) as { path: string }).path;
  return {
    ffmpeg: onPath("ffmpeg", envPath) ?? config.ffmpegPath ?? shipped("@ffmpeg-installer/ffmpeg"),
    ffprobe: onPath("ffprobe", envPath) ?? config.ffprobePath ?? shipped("@ffprobe-installer/ffprobe"),
  };
}

interface FfprobeStream {
  codec_type?: string;
  codec_name?: string;
  profile?: string;
  level?: number;
  pix_fmt?: string;
  bits_per_raw_sample?: string;
  width?: number;
  height?: number;
  avg_frame_rate?: string;
  r_frame_rate?: string;
  duration?: string;
  tags?: { rotate?: string };
  side_data_list?: { side_data_type?: string; rotation?: number }[];
}

function parseRate(r: string | undefined): number {
  if (!r) return 0;
  const [n, d] = r.split("/").map(Number);
  const v = d ? (n ?? 0) / d : (n ?? 0);
  return Number.isFinite(v) ? v : 0;
}

/** Maps ffprobe's JSON to a ProbeResult; throws ProbeError when there is no usable video. */
export function parseProbe(json: string): ProbeResult {
  let data: { streams?: FfprobeStream[]; format?: { duration?: string } };
  try {
    data = JSON.parse(json);
  } catch {
    throw new ProbeError("UNDECODABLE", "The file could not be read as a video.");
  }
  const streams = data.streams ?? [];
  const v = streams.find((s) => s.codec_type === "video" && (s.width ?? 0) > 0 && (s.height ?? 0) > 0);
  if (!v) {
    const what = streams.some((s) => s.codec_type === "audio") ? "an audio-only file" : "not a video";
    throw new ProbeError("NO_VIDEO_STREAM", `The file has no video stream (${what}).`);
  }
  // Display-matrix rotation is counter-clockwise in ffprobe; the legacy tag is clockwise.
  const matrix = v.side_data_list?.find((d) => d.side_data_type === "Display Matrix" && typeof d.rotation === "number");
  const raw = matrix ? -(matrix.rotation ?? 0) : Number(v.tags?.rotate ?? 0);
  const rotation = (((Math.round(raw / 90) * 90) % 360) + 360) % 360;
  const avg = parseRate(v.avg_frame_rate);
  const frameRate = avg > 0 && avg <= 240 ? avg : parseRate(v.r_frame_rate) || 30;
  const durationSec = Number(data.format?.duration ?? v.duration ?? 0);
  if (!(durationSec > 0)) throw new ProbeError("UNDECODABLE", "The video has no measurable duration.");
  const audio = streams.find((s) => s.codec_type === "audio");
  const pixFmt = v.pix_fmt ?? "";
  const depthSuffix = /p(\d+)(?:le|be)$/.exec(pixFmt)?.[1];
  return {
    durationSec,
    width: v.width ?? 0,
    height: v.height ?? 0,
    rotation,
    frameRate: Math.round(Math.min(frameRate, 60) * 1000) / 1000,
    hasAudio: audio !== undefined,
    video: {
      codec: v.codec_name ?? "",
      profile: v.profile ?? "",
      level: Number.isInteger(v.level) && (v.level ?? 0) > 0 ? (v.level as number) : 0,
      pixFmt,
      bitDepth: Number(v.bits_per_raw_sample) || Number(depthSuffix) || 8,
    },
    audioCodec: audio ? (audio.codec_name ?? "") : null,
  };
}

/**
 * The presentation times (seconds, ascending) of the first video stream's keyframes, read from
 * the packet index without decoding: `-show_entries packet=pts_time,flags`.
 */
export function parseKeyframes(csv: string): number[] {
  const times: number[] = [];
  for (const line of csv.split("\n")) {
    const [pts, flags] = line.trim().split(",");
    const t = Number(pts);
    if (flags?.includes("K") && pts !== "N/A" && Number.isFinite(t)) times.push(t);
  }
  return times.sort((a, b) => a - b);
}

/** Runs ffprobe (in its own process group) over the first video stream's packets: its keyframe times. */
export async function probeKeyframes(ffprobe: string, file: string, signal?: AbortSignal): Promise<number[]> {
  const args = [
    "-v",
    "error",
    "-select_streams",
    "v:0",
    "-show_entries",
    "packet=pts_time,flags",
    "-of",
    "csv=p=0",
    file,
  ];
  const { stdout } = await runContained({ command: ffprobe, args, signal });
  return parseKeyframes(stdout);
}

/** Runs ffprobe on a local file, in its own process group like ffmpeg (see runContained). */
export async function probeFile(ffprobe: string, file: string, signal?: AbortSignal): Promise<ProbeResult> {
  const args = ["-v", "error", "-print_format", "json", "-show_format", "-show_streams", file];
  let stdout: string;
  try {
    ({ stdout } = await runContained({ command: ffprobe, args, signal }));
  } catch (err) {
    if (!(err instanceof FfmpegError)) throw err;
    const detail = err.stderr.trim().split("\n").pop() ?? "";
    const shown = withoutPaths(detail);
    throw new ProbeError("UNDECODABLE", `The file could not be read as a video${shown ? ` (${shown})` : ""}.`, detail);
  }
  return parseProbe(stdout);
}

/** A chapter of the source, as the catalog stores it (`Chapter` of the API contract). */
export interface SourceChapter {
  title: string;
  /** Seconds. */
  startTime: number;
}

/** At most this many chapters are kept from a source (the API's own limit). */
export const MAX_SOURCE_CHAPTERS = 500;

/**
 * The source's own chapters (MP4/MOV chapter tracks, Matroska chapters) from
 * `ffprobe -show_chapters -print_format json`: sorted by start, one per start time, titles
 * trimmed to 200 characters without control characters ("Chapter n" when untitled).
 */
export function parseChapters(json: string): SourceChapter[] {
  let data: { chapters?: { start_time?: string | number; tags?: { title?: unknown } }[] };
  try {
    data = JSON.parse(json);
  } catch {
    return [];
  }
  const out: SourceChapter[] = [];
  for (const c of Array.isArray(data.chapters) ? data.chapters : []) {
    const start = Number(c.start_time);
    if (!Number.isFinite(start) || start < 0) continue;
    const raw = typeof c.tags?.title === "string" ? c.tags.title : "";
    const title = raw
      // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is removed
      .replace(/[\u0000-\u001f\u007f]/g, " ")
      .trim()
      .slice(0, 200);
    out.push({ title, startTime: Math.round(start * 1000) / 1000 });
  }
  out.sort((a, b) => a.startTime - b.startTime);
  const unique = out.filter((c, i) => i === 0 || c.startTime > (out[i - 1] as SourceChapter).startTime);
  return unique.slice(0, MAX_SOURCE_CHAPTERS).map((c, i) => ({ ...c, title: c.title || `Chapter ${i + 1}` }));
}

/** Runs ffprobe for the chapters of a local file (none when it has none or cannot be read). */
export async function probeChapters(ffprobe: string, file: string, signal?: AbortSignal): Promise<SourceChapter[]> {
  const args = ["-v", "error", "-print_format", "json", "-show_chapters", file];
  try {
    const { stdout } = await runContained({ command: ffprobe, args, signal });
    return parseChapters(stdout);
  } catch (err) {
    if (err instanceof FfmpegError) return [];
    throw err;
  }
}
