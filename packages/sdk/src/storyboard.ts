/**
 * Storyboard (scrub preview) maps: a WebVTT file whose cues name a sprite image and the tile of it
 * to show for that time range, as a media fragment: `storyboard.jpg#xywh=160,0,160,90`.
 * This is the format the Reelkit transcoder writes and the one most players read (JW Player,
 * Video.js thumbnails, Vidstack). Parsing is a pure function; `loadStoryboard` only adds a fetch.
 */

/** A pixel rectangle inside the sprite image. */
export interface StoryboardRegion {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface StoryboardCue {
  /** Seconds. */
  start: number;
  /** Seconds (exclusive). */
  end: number;
  /** Absolute (or base-relative, when the VTT URL was relative) image URL, fragment removed. */
  url: string;
  /** The tile to show; null when the cue names a whole image. */
  region: StoryboardRegion | null;
}

const TIMING = /^(\S+)\s+-->\s+(\S+)/;

/** WebVTT timestamp (`hh:mm:ss.ttt` or `mm:ss.ttt`) in seconds, or null when malformed. */
export function parseVttTimestamp(text: string): number | null {
  const m = /^(?:(\d+):)?([0-5]\d):([0-5]\d)[.,](\d{3})$/.exec(text);
  if (!m) return null;
  return Number(m[1] ?? 0) * 3600 + Number(m[2]) * 60 + Number(m[3]) + Number(m[4]) / 1000;
}

// A URL that is never fetched: lets `new URL` resolve against a path-only base ("/media/x.vtt").
const PLACEHOLDER_ORIGIN = "http://reelkit.invalid";

function resolveUrl(reference: string, base: string): string {
  try {
    return new URL(reference, base).href;
  } catch {
    const resolved = new URL(reference, new URL(base, `${PLACEHOLDER_ORIGIN}/`));
    return resolved.origin === PLACEHOLDER_ORIGIN ? resolved.href.slice(PLACEHOLDER_ORIGIN.length) : resolved.href;
  }
}

function parseTarget(payload: string, baseUrl: string): Pick<StoryboardCue, "url" | "region"> | null {
  const hash = payload.indexOf("#");
  const path = hash === -1 ? payload : payload.slice(0, hash);
  if (!path) return null;
  const url = resolveUrl(path, baseUrl);
  if (hash === -1) return { url, region: null };
  // Media Fragments URI: xywh=[pixel:]x,y,w,h — percent regions cannot be drawn without the image size.
  const params = new URLSearchParams(payload.slice(hash + 1));
  const xywh = params.get("xywh");
  if (xywh === null) return { url, region: null };
  const m = /^(?:pixel:)?(\d+),(\d+),(\d+),(\d+)$/.exec(xywh.trim());
  if (!m) return null;
  const [x, y, width, height] = m.slice(1).map(Number) as [number, number, number, number];
  return { url, region: { x, y, width, height } };
}

/**
 * Parses a storyboard WebVTT document. Image references are resolved against `baseUrl` (the URL
 * the VTT was loaded from). Cues that cannot be read are skipped rather than failing the whole
 * map: a preview is an enhancement, never a reason to break playback. Sorted by start time.
 */
export function parseStoryboardVtt(text: string, baseUrl: string): StoryboardCue[] {
  const lines = text.replace(/^\uFEFF/, "").split(/\r\n|\r|\n/);
  if (!/^WEBVTT(?:[ \t]|$)/.test(lines[0] ?? "")) throw new Error("Not a WebVTT document (missing WEBVTT header)");
  const cues: StoryboardCue[] = [];
  // Blocks are separated by blank lines; a cue block has a timing line as its first or second line.
  let block: string[] = [];
  const flush = () => {
    const timingAt = block.findIndex((line) => line.includes("-->"));
    if (timingAt === 0 || timingAt === 1) {
      const m = TIMING.exec(block[timingAt] ?? "");
      const start = m ? parseVttTimestamp(m[1] as string) : null;
      const end = m ? parseVttTimestamp(m[2] as string) : null;
      const payload = block[timingAt + 1]?.trim();
      const target = payload ? parseTarget(payload, baseUrl) : null;
      if (start !== null && end !== null && end > start && target) cues.push({ start, end, ...target });
    }
    block = [];
  };
  for (const line of lines.slice(1)) {
    if (line.trim() === "") flush();
    else block.push(line);
  }
  flush();
  return cues.sort((a, b) => a.start - b.start);
}

/** The cue covering `time` (seconds), or null. Binary search: cues are sorted by start. */
export function findStoryboardCue(cues: readonly StoryboardCue[], time: number): StoryboardCue | null {
  let lo = 0;
  let hi = cues.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const cue = cues[mid] as StoryboardCue;
    if (time < cue.start) hi = mid - 1;
    else if (time >= cue.end) lo = mid + 1;
    else return cue;
  }
  // Past the last cue's end (durations are rounded when the map is written): keep the last tile.
  const last = cues.at(-1);
  return last && time >= last.end && time - last.end < 1 ? last : null;
}

export interface LoadStoryboardOptions {
  fetch?: typeof fetch;
  signal?: AbortSignal;
}

/** Fetches and parses a storyboard VTT; image URLs are resolved against the VTT's URL. */
export async function loadStoryboard(vttUrl: string, options: LoadStoryboardOptions = {}): Promise<StoryboardCue[]> {
  const doFetch = options.fetch ?? globalThis.fetch;
  const response = await doFetch(vttUrl, { signal: options.signal });
  if (!response.ok) throw new Error(`Storyboard ${vttUrl}: HTTP ${response.status}`);
  return parseStoryboardVtt(await response.text(), response.url || vttUrl);
}
