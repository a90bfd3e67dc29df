import { DEFAULT_RUNGS } from "@reelkit/core";

/** One output rendition of the ladder. */
export interface Rung {
  /** Name used for the directory and in events, e.g. "720p". */
  name: string;
  width: number;
  height: number;
  /** Target average video bitrate in bits per second. */
  videoBitrate: number;
  /** VBV cap: the encoder never exceeds this rate over `bufsize` bits. */
  maxrate: number;
  bufsize: number;
}

export interface SourceGeometry {
  width: number;
  height: number;
  /** Clockwise display rotation in degrees (0, 90, 180, 270; other values are normalised). */
  rotation: number;
}

/** The default ladder (`REELKIT_RUNGS`), declared with the other configuration variables. */
export { DEFAULT_RUNGS };

/**
 * Video bitrates (kbit/s) for the standard rungs, close to Apple's HLS authoring examples for
 * H.264 at ~30 fps. Other sizes get a bitrate proportional to their pixel count.
 */
const KBPS_BY_HEIGHT: Record<number, number> = { 1080: 5000, 720: 3000, 480: 1400, 360: 800, 180: 300 };
const KBPS_PER_KILOPIXEL = 2.4;
/**
 * A source whose short side falls between two rungs gets an extra top rung at its own size when
 * it has at least this much more lines than the largest rung below it: otherwise a 270p upload
 * would play at 180p at best, while a 730p one gains nothing visible over 720p.
 */
const NATIVE_RUNG_MIN_STEP = 1.1;
const MIN_KBPS = 150;
/** Peak may exceed the average by this factor; the buffer holds two seconds at peak. */
const MAXRATE_FACTOR = 1.5;
const BUFSIZE_SECONDS = 2;

/** Size as shown to viewers: a 90/270 degree rotation swaps width and height. */
export function displaySize(src: SourceGeometry): { width: number; height: number } {
  const quarterTurns = Math.round((((src.rotation % 360) + 360) % 360) / 90) % 4;
  return quarterTurns % 2 === 1 ? { width: src.height, height: src.width } : { width: src.width, height: src.height };
}

function even(n: number): number {
  return Math.max(2, Math.round(n / 2) * 2);
}

function bitrateFor(width: number, height: number, shortSide: number): number {
  const known = KBPS_BY_HEIGHT[shortSide];
  if (known !== undefined) return known * 1000;
  // Between two standard rungs: interpolate, so rates keep rising with size.
  const heights = Object.keys(KBPS_BY_HEIGHT)
    .map(Number)
    .sort((a, b) => a - b);
  const above = heights.find((h) => h > shortSide);
  const below = [...heights].reverse().find((h) => h < shortSide);
  if (above !== undefined && below !== undefined) {
    const lo = KBPS_BY_HEIGHT[below] as number;
    const hi = KBPS_BY_HEIGHT[above] as number;
    return Math.round(lo + ((hi - lo) * (shortSide - below)) / (above - below)) * 1000;
  }
  return Math.max(MIN_KBPS, Math.round(((width * height) / 1000) * KBPS_PER_KILOPIXEL)) * 1000;
}

/**
 * Plans the ladder from the display size. A rung names the short side (so a portrait 1080x1920
 * clip gets a "1080p" rung of 1080x1920); rungs larger than the source are dropped (never
 * upscale) and every dimension is even (yuv420p needs it). A source between two rungs also gets
 * a top rung at its own size (480x270 -> 270p + 180p), so no upload plays below its own
 * resolution; a source smaller than every rung gets just that one.
 */
export function planLadder(src: SourceGeometry, rungs: readonly number[] = DEFAULT_RUNGS): Rung[] {
  if (!(src.width > 0 && src.height > 0)) throw new RangeError(`invalid source size ${src.width}x${src.height}`);
  const display = displaySize(src);
  const portrait = display.height > display.width;
  const short = portrait ? display.width : display.height;
  const long = portrait ? display.height : display.width;
  const all = [...new Set(rungs)].filter((r) => r > 0).sort((a, b) => b - a);
  const shorts = all.filter((r) => r <= short);
  // The source's own size on top when it lies between rungs (or below all of them), rounded
  // down so an odd source is never stretched by a pixel. Larger than every rung: the rungs cap it.
  const native = Math.max(2, short - (short % 2));
  const top = shorts[0];
  if (all.some((r) => r > short) && (top === undefined || native >= top * NATIVE_RUNG_MIN_STEP)) shorts.unshift(native);
  return shorts.map((s) => {
    const shortSide = even(s);
    const longSide = even((long * shortSide) / short);
    const width = portrait ? shortSide : longSide;
    const height = portrait ? longSide : shortSide;
    const videoBitrate = bitrateFor(width, height, shortSide);
    const maxrate = Math.round(videoBitrate * MAXRATE_FACTOR);
    return { name: `${shortSide}p`, width, height, videoBitrate, maxrate, bufsize: maxrate * BUFSIZE_SECONDS };
  });
}
