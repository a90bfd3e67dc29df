import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { keys, type Rendition, type Storage } from "@reelkit/core";
import { FfmpegError, runContained } from "@reelkit/transcoder";
import type { Video } from "../generated/prisma/client.js";

export type ImageFormat = "jpg" | "webp";
export type ImageFit = "preserve" | "crop" | "pad";

/** The only widths and heights served: a bounded set, so the image cache cannot be flooded. */
export const IMAGE_SIZES = [64, 90, 120, 160, 180, 240, 320, 360, 480, 640, 720, 960, 1080, 1280, 1920] as const;
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

/**
 * Images of a video at any time: a frame from the nearest segment of its best rendition (never
 * the source), scaled, stored once per parameter set under `videos/<id>/images/` and served from
 * there after. At most `concurrency` ffmpeg processes at once; identical requests made while one
 * is being made share it.
 */
export class ImageService {
  private readonly inflight = new Map<string, Promise<string>>();
  private running = 0;
  private readonly queue: (() => void)[] = [];

  constructor(
    /** `ffmpeg`: its path, looked up when the first image is made. */
    private readonly o: { storage: Storage; ffmpeg: () => string; concurrency?: number; timeoutMs?: number },
  ) {}

  /** The storage key of the image, made first when absent. */
  image(video: Video, request: ImageRequest): Promise<string> {
    const key = imageKey(video.id, request);
    const pending = this.inflight.get(key);
    if (pending) return pending;
    const made = this.make(video, request, key).finally(() => this.inflight.delete(key));
    this.inflight.set(key, made);
    return made;
  }

  private async make(video: Video, request: ImageRequest, key: string): Promise<string> {
    if (await this.o.storage.stat(key)) return key;
    await this.slot();
    const dir = await mkdtemp(path.join(os.tmpdir(), "reelkit-image-"));
    try {
      const renditions = (Array.isArray(video.renditions) ? video.renditions : []) as unknown as Rendition[];
      const top = [...renditions].sort((a, b) => b.height - a.height)[0];
      if (!top) throw new ImageRequestError("The video has no renditions yet");
      const playlistKey = top.playlistKey;
      const base = playlistKey.slice(0, playlistKey.lastIndexOf("/") + 1);
      const text = (await readAll(await this.o.storage.get(playlistKey))).toString("utf8");
      const segment = segmentAt(text, request.time);
      if (!segment) throw new ImageRequestError("The video has no segments yet");
      // The init section and the one segment make a playable fMP4 file on their own.
      const input = path.join(dir, "input.mp4");
      const parts = [segment.init, segment.uri].filter((u): u is string => u !== null);
      const bytes = await Promise.all(parts.map(async (u) => readAll(await this.o.storage.get(base + u))));
      await writeFile(input, Buffer.concat(bytes));
      const output = path.join(dir, `out.${request.format}`);
      const args = imageArgs({ input, offset: Math.max(0, request.time - segment.start), output, request });
      try {
        await runContained({
          command: this.o.ffmpeg(),
          args,
          signal: AbortSignal.timeout(this.o.timeoutMs ?? 20_000),
        });
      } catch (err) {
        if (err instanceof FfmpegError) throw new Error(`making an image failed: ${err.stderr.trim()}`);
        throw err;
      }
      await this.o.storage.put(key, await readFile(output));
      return key;
    } finally {
      await rm(dir, { recursive: true, force: true });
      this.release();
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

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks);
}
