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

export const DEFAULT_RUNGS = [1080, 720, 480, 360, 180] as const;

/**
 * Video bitrates (kbit/s) for the standard rungs, close to Apple's HLS authoring examples for
 * H.264 at ~30 fps. Other sizes get a bitrate proportional to their pixel count.
 */
const KBPS_BY_HEIGHT: Record<number, number> = { 1080: 5000, 720: 3000, 480: 1400, 360: 800, 180: 300 };
const KBPS_PER_KILOPIXEL = 2.4;
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
  const kbps =
    KBPS_BY_HEIGHT[shortSide] ?? Math.max(MIN_KBPS, Math.round(((width * height) / 1000) * KBPS_PER_KILOPIXEL));
  return kbps * 1000;
}

/**
 * Plans the ladder from the display size. A rung names the short side (so a portrait 1080x1920
 * clip gets a "1080p" rung of 1080x1920); rungs larger than the source are dropped (never
 * upscale) and every dimension is even (yuv420p needs it). A source smaller than every rung
 * gets one rung at its own size.
 */
export function planLadder(src: SourceGeometry, rungs: readonly number[] = DEFAULT_RUNGS): Rung[] {
  if (!(src.width > 0 && src.height > 0)) throw new RangeError(`invalid source size ${src.width}x${src.height}`);
  const display = displaySize(src);
  const portrait = display.height > display.width;
  const short = portrait ? display.width : display.height;
  const long = portrait ? display.height : display.width;
  const wanted = [...new Set(rungs)].filter((r) => r > 0 && r <= short).sort((a, b) => b - a);
  // Round the fallback down so an odd source is never stretched by a pixel.
  const shorts = wanted.length > 0 ? wanted : [Math.max(2, short - (short % 2))];
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
