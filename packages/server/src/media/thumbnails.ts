import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { keys, type Rendition, type Storage } from "@reelkit/core";
import { ANIMATED_FPS, IMAGE_SIZES } from "@reelkit/sdk/contract";
import { FfmpegError, runContained } from "@reelkit/transcoder";
import type { Video } from "../generated/prisma/client.js";

export type ImageFormat = "jpg" | "webp";
export type ImageFit = "preserve" | "crop" | "pad";

/** The only widths and heights served (the contract's): a bounded set, so the image cache cannot be flooded. */
export { ANIMATED_FPS, IMAGE_SIZES };
/** Times are rounded to this step (seconds) before anything is made or cached. */
export const TIME_STEP = 0.1;

export interface ImageRequest {
  /** Seconds; rounded to TIME_STEP. */
  time: number;
  width?: number;
  height?: number;
  fit: ImageFit;
  format: ImageFormat;
}

export class ImageRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ImageRequestError";
  }
}

/** Checks a request against the video and the size set; the normalised request, or throws ImageRequestError. */
export function normaliseImageRequest(req: ImageRequest, durationSec: number): ImageRequest {
  for (const [name, v] of [
    ["width", req.width],
    ["height", req.height],
  ] as const) {
    if (v !== undefined && !(IMAGE_SIZES as readonly number[]).includes(v)) {
      throw new ImageRequestError(`${name} must be one of ${IMAGE_SIZES.join(", ")}`);
    }
  }
  if (req.fit !== "preserve" && (req.width === undefined || req.height === undefined)) {
    throw new ImageRequestError(`fit=${req.fit} needs both width and height`);
  }
  const time = Math.round(req.time / TIME_STEP) * TIME_STEP;
  if (!(time >= 0) || time >= durationSec) {
    throw new ImageRequestError(`time must be from 0 to under the video's duration (${durationSec} s)`);
  }
  const width = req.width === undefined && req.height === undefined ? 640 : req.width;
  return { ...req, time: Number(time.toFixed(1)), width };
}

/** Storage key of one parameter set's image (one object per set). */
export function imageKey(videoId: string, r: ImageRequest): string {
  const size = `${r.width ?? "auto"}x${r.height ?? "auto"}`;
  return `${keys.videoPrefix(videoId)}images/t${r.time.toFixed(1)}-${size}-${r.fit}.${r.format}`;
}

/** Hover previews: at most this long (seconds), at one of ANIMATED_FPS, at most this wide or high. */
export const ANIMATED_MAX_SECONDS = 10;
export const ANIMATED_MAX_SIZE = 640;

export interface AnimatedRequest {
  /** Seconds; rounded to TIME_STEP. */
  start: number;
  /** Seconds, after `start`; rounded to TIME_STEP. */
  end: number;
  fps: number;
  width?: number;
  height?: number;
}

/**
 * Checks an animated-preview request against the video; the normalised request (start 0, end
 * start + 5 s or the end of the video, 15 fps, width 320 by default), or throws ImageRequestError.
 */
export function normaliseAnimatedRequest(
  req: { start?: number; end?: number; fps?: number; width?: number; height?: number },
  durationSec: number,
): AnimatedRequest {
  const round = (t: number) => Number((Math.round(t / TIME_STEP) * TIME_STEP).toFixed(1));
  const sizes = (IMAGE_SIZES as readonly number[]).filter((s) => s <= ANIMATED_MAX_SIZE);
  for (const [name, v] of [
    ["width", req.width],
    ["height", req.height],
  ] as const) {
    if (v !== undefined && !sizes.includes(v))
      throw new ImageRequestError(`${name} must be one of ${sizes.join(", ")}`);
  }
  const fps = req.fps ?? 15;
  if (!(ANIMATED_FPS as readonly number[]).includes(fps)) {
    throw new ImageRequestError(`fps must be one of ${ANIMATED_FPS.join(", ")}`);
  }
  const start = round(req.start ?? 0);
  if (!(start >= 0) || start >= durationSec) {
    throw new ImageRequestError(`start must be from 0 to under the video's duration (${durationSec} s)`);
  }
  const end = round(req.end ?? Math.min(start + 5, durationSec));
  if (!(end > start) || end > round(durationSec) + TIME_STEP / 2) {
    throw new ImageRequestError(`end must be after start and at most the video's duration (${durationSec} s)`);
  }
  if (end - start > ANIMATED_MAX_SECONDS + TIME_STEP / 2) {
    throw new ImageRequestError(`end - start must be at most ${ANIMATED_MAX_SECONDS} s`);
  }
  const width = req.width === undefined && req.height === undefined ? 320 : req.width;
  return { start, end, fps, width, height: req.height };
}

/** Storage key of one animated preview's parameter set. */
export function animatedKey(videoId: string, r: AnimatedRequest): string {
  const size = `${r.width ?? "auto"}x${r.height ?? "auto"}`;
  return `${keys.videoPrefix(videoId)}images/a${r.start.toFixed(1)}-${r.end.toFixed(1)}-${r.fps}fps-${size}.webp`;
}

/** Storage key of a poster chosen at `time` (a new key per time, so no cache serves an old one). */
export function chosenPosterKey(videoId: string, time: number): string {
  return `${keys.videoPrefix(videoId)}poster-t${time.toFixed(1)}.jpg`;
}

/** The ffmpeg arguments for an animated WebP of `duration` seconds from `offset` into `input`, looping. */
export function animatedArgs(o: {
  input: string;
  offset: number;
  duration: number;
  output: string;
  request: AnimatedRequest;
}): string[] {
  const { fps, width, height } = o.request;
  return [
    ...["-v", "error", "-nostdin", "-y"],
    ...["-ss", o.offset.toFixed(3), "-t", o.duration.toFixed(3), "-i", o.input],
    ...["-an", "-vf", `fps=${fps},${imageFilter({ width, height, fit: "preserve" })}`],
    ...["-c:v", "libwebp_anim", "-quality", "70", "-loop", "0"],
    ...["-f", "webp", o.output],
  ];
}

/** ffmpeg's scale (and crop/pad) filter for a request. */
export function imageFilter(r: Pick<ImageRequest, "width" | "height" | "fit">): string {
  const { width: w, height: h } = r;
  if (w !== undefined && h === undefined) return `scale=${w}:-2`;
  if (w === undefined && h !== undefined) return `scale=-2:${h}`;
  if (r.fit === "crop") return `scale=${w}:${h}:force_original_aspect_ratio=increase,crop=${w}:${h}`;
  if (r.fit === "pad") {
    return `scale=${w}:${h}:force_original_aspect_ratio=decrease,pad=${w}:${h}:(ow-iw)/2:(oh-ih)/2`;
  }
  return `scale=${w}:${h}:force_original_aspect_ratio=decrease:force_divisible_by=2`;
}

/** The ffmpeg arguments for one frame, `offset` seconds into `input`, scaled, as JPEG or WebP. */
export function imageArgs(o: { input: string; offset: number; output: string; request: ImageRequest }): string[] {
  const codec = o.request.format === "webp" ? ["-c:v", "libwebp", "-quality", "80"] : ["-c:v", "mjpeg", "-q:v", "3"];
  return [
    ...["-v", "error", "-nostdin", "-y"],
    ...["-ss", o.offset.toFixed(3), "-i", o.input],
    ...["-frames:v", "1", "-an", "-vf", imageFilter(o.request)],
    ...codec,
    ...["-f", "image2", o.output],
  ];
}

/** The media segment holding `time` in a media playlist, its start, and the init section's URI. */
export function segmentAt(playlist: string, time: number): { init: string | null; uri: string; start: number } | null {
  let init: string | null = null;
  let at = 0;
  let duration: number | null = null;
  let last: { uri: string; start: number } | null = null;
  for (const raw of playlist.split(/\r?\n/)) {
    const line = raw.trim();
    const map = /^#EXT-X-MAP:URI="([^"]+)"/.exec(line);
    if (map) init = map[1] as string;
    else if (line.startsWith("#EXTINF:")) duration = Number.parseFloat(line.slice(8));
    else if (line && !line.startsWith("#") && duration !== null) {
      last = { uri: line, start: at };
      if (time < at + duration) return { init, ...last };
      at += duration;
      duration = null;
    }
  }
  return last ? { init, ...last } : null;
}

/** The media segments overlapping `[from, to)`, in order, the first one's start and the init section's URI. */
export function segmentsIn(
  playlist: string,
  from: number,
  to: number,
): { init: string | null; uris: string[]; start: number } | null {
  const first = segmentAt(playlist, from);
  if (!first) return null;
  const uris: string[] = [];
  let at = 0;
  let duration: number | null = null;
  for (const raw of playlist.split(/\r?\n/)) {
    const line = raw.trim();
    if (line.startsWith("#EXTINF:")) duration = Number.parseFloat(line.slice(8));
    else if (line && !line.startsWith("#") && duration !== null) {
      if (at >= first.start && at < to) uris.push(line);
      at += duration;
      duration = null;
    }
  }
  return { init: first.init, uris, start: first.start };
}

/**
 * Images of a video at any time: frames and animated previews from the segments of its best
 * rendition (never the source), scaled, stored once per parameter set under `videos/<id>/images/`
 * and served from there after. At most `concurrency` ffmpeg processes at once; identical requests
 * made while one is being made share it.
 */
export class ImageService {
  private readonly inflight = new Map<string, Promise<string>>();
  private running = 0;
  private readonly queue: (() => void)[] = [];

  constructor(
    /** `ffmpeg`: its path, looked up when the first image is made. */
    private readonly o: { storage: Storage; ffmpeg: () => string; concurrency?: number; timeoutMs?: number },
  ) {}

  /** The storage key of the frame, made first when absent. */
  image(video: Video, request: ImageRequest): Promise<string> {
    return this.once(imageKey(video.id, request), async (dir) => {
      const output = path.join(dir, `out.${request.format}`);
      await this.run(video, { from: request.time, to: request.time + TIME_STEP }, dir, (input, first) =>
        imageArgs({ input, offset: Math.max(0, request.time - first), output, request }),
      );
      return output;
    });
  }

  /** The storage key of the animated WebP preview, made first when absent. */
  animated(video: Video, request: AnimatedRequest): Promise<string> {
    return this.once(animatedKey(video.id, request), async (dir) => {
      const output = path.join(dir, "out.webp");
      await this.run(video, { from: request.start, to: request.end }, dir, (input, first) =>
        animatedArgs({
          input,
          offset: Math.max(0, request.start - first),
          duration: request.end - request.start,
          output,
          request,
        }),
      );
      return output;
    });
  }

  /**
   * The storage key of a poster at `time` seconds: a JPEG frame of the best rendition at its own
   * size, stored beside the transcoder's poster under a key of its own.
   */
  poster(video: Video, time: number): Promise<string> {
    const top = topRendition(video);
    const request: ImageRequest = { time, width: top?.width, fit: "preserve", format: "jpg" };
    return this.once(chosenPosterKey(video.id, time), async (dir) => {
      const output = path.join(dir, "out.jpg");
      await this.run(video, { from: time, to: time + TIME_STEP }, dir, (input, first) =>
        imageArgs({ input, offset: Math.max(0, time - first), output, request }),
      );
      return output;
    });
  }

  /** Makes `key` once (shared by concurrent callers) unless storage has it: `make` returns a local file. */
  private once(key: string, make: (dir: string) => Promise<string>): Promise<string> {
    const pending = this.inflight.get(key);
    if (pending) return pending;
    const made = (async () => {
      if (await this.o.storage.stat(key)) return key;
      await this.slot();
      let dir: string | null = null;
      try {
        dir = await mkdtemp(path.join(os.tmpdir(), "reelkit-image-"));
        await this.o.storage.put(key, await readFile(await make(dir)));
        return key;
      } finally {
        if (dir) await rm(dir, { recursive: true, force: true });
        this.release();
      }
    })().finally(() => this.inflight.delete(key));
    this.inflight.set(key, made);
    return made;
  }

  /**
   * Writes the init section and the segments of the best rendition covering `[from, to)` into one
   * fMP4 file (playable on its own) and runs ffmpeg on it with the arguments `args` builds from
   * that file and the first segment's start.
   */
  private async run(
    video: Video,
    span: { from: number; to: number },
    dir: string,
    args: (input: string, firstSegmentStart: number) => string[],
  ): Promise<void> {
    const top = topRendition(video);
    if (!top) throw new ImageRequestError("The video has no renditions yet");
    const playlistKey = top.playlistKey;
    const base = playlistKey.slice(0, playlistKey.lastIndexOf("/") + 1);
    const text = (await readAll(await this.o.storage.get(playlistKey))).toString("utf8");
    const segments = segmentsIn(text, span.from, span.to);
    if (!segments) throw new ImageRequestError("The video has no segments yet");
    const input = path.join(dir, "input.mp4");
    const parts = [segments.init, ...segments.uris].filter((u): u is string => u !== null);
    const bytes = await Promise.all(parts.map(async (u) => readAll(await this.o.storage.get(base + u))));
    await writeFile(input, Buffer.concat(bytes));
    try {
      await runContained({
        command: this.o.ffmpeg(),
        args: args(input, segments.start),
        signal: AbortSignal.timeout(this.o.timeoutMs ?? 30_000),
      });
    } catch (err) {
      if (err instanceof FfmpegError) throw new Error(`making an image failed: ${err.stderr.trim()}`);
      throw err;
    }
  }

  private async slot(): Promise<void> {
    if (this.running < (this.o.concurrency ?? 2)) {
      this.running++;
      return;
    }
    await new Promise<void>((resolve) => this.queue.push(resolve));
  }

  private release(): void {
    const next = this.queue.shift();
    if (next) next();
    else this.running--;
  }
}

function topRendition(video: Video): Rendition | undefined {
  const renditions = (Array.isArray(video.renditions) ? video.renditions : []) as unknown as Rendition[];
  return [...renditions].sort((a, b) => b.height - a.height)[0];
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks);
}
