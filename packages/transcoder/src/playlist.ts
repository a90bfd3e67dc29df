import { AUDIO_CODEC } from "./ffmpeg-args.js";

export interface MeasuredSegment {
  /** Seconds, from the variant playlist's #EXTINF. */
  duration: number;
  /** Bytes on disk. */
  size: number;
}

export interface MeasuredStream {
  segments: readonly MeasuredSegment[];
  /** Bytes of the fMP4 init segment, counted once in the average. */
  initSize?: number;
}

export interface MasterVariant {
  uri: string;
  width: number;
  height: number;
  codecs: string;
  frameRate: number;
  video: MeasuredStream;
}

export interface MasterInput {
  variants: readonly MasterVariant[];
  /** The audio rendition, or null when the source is silent. */
  audio: (MeasuredStream & { uri: string }) | null;
}

export interface StreamRates {
  peak: number;
  average: number;
}

/** Segments of a media playlist: duration and URI of each #EXTINF entry. */
export function parseMediaPlaylist(text: string): { uri: string; duration: number }[] {
  const out: { uri: string; duration: number }[] = [];
  let pending: number | null = null;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line.startsWith("#EXTINF:")) pending = Number.parseFloat(line.slice(8));
    else if (line && !line.startsWith("#") && pending !== null) {
      out.push({ uri: line, duration: pending });
      pending = null;
    }
  }
  return out;
}

/** Peak = the highest single-segment bitrate; average over the whole stream (Apple HLS spec). */
export function measureRates(stream: MeasuredStream): StreamRates {
  let peak = 0;
  let bytes = stream.initSize ?? 0;
  let seconds = 0;
  for (const s of stream.segments) {
    if (s.duration > 0) peak = Math.max(peak, (s.size * 8) / s.duration);
    bytes += s.size;
    seconds += s.duration;
  }
  return { peak: Math.ceil(peak), average: seconds > 0 ? Math.ceil((bytes * 8) / seconds) : 0 };
}

/** The master playlist text; variant bandwidths include the audio rendition that plays with them. */
export function writeMasterPlaylist(input: MasterInput): { text: string; rates: StreamRates[] } {
  const audio = input.audio ? measureRates(input.audio) : { peak: 0, average: 0 };
  return writeMaster(
    input.variants.map((v) => {
      const video = measureRates(v.video);
      return { ...v, rates: { peak: video.peak + audio.peak, average: video.average + audio.average } };
    }),
    input.audio?.uri ?? null,
  );
}

export interface NominalVariant {
  uri: string;
  width: number;
  height: number;
  codecs: string;
  frameRate: number;
  /** Expected video rates (bits per second), before anything is measured. */
  video: StreamRates;
}

/**
 * The master playlist written while a video is still being encoded: the same variants, with
 * the rates the encoder aims at (plus the audio bitrate) instead of measured ones.
 */
export function writeNominalMasterPlaylist(input: {
  variants: readonly NominalVariant[];
  audio: { uri: string; bitrate: number } | null;
}): { text: string; rates: StreamRates[] } {
  const a = input.audio?.bitrate ?? 0;
  return writeMaster(
    input.variants.map((v) => ({ ...v, rates: { peak: v.video.peak + a, average: v.video.average + a } })),
    input.audio?.uri ?? null,
  );
}

function writeMaster(
  variants: readonly (Omit<MasterVariant, "video"> & { rates: StreamRates })[],
  audioUri: string | null,
): { text: string; rates: StreamRates[] } {
  // Players start at the beginning even while the media playlists are still growing (EVENT).
  const lines = ["#EXTM3U", "#EXT-X-VERSION:7", "#EXT-X-INDEPENDENT-SEGMENTS", "#EXT-X-START:TIME-OFFSET=0"];
  if (audioUri) {
    lines.push(
      `#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="Default",LANGUAGE="und",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="2",URI="${audioUri}"`,
    );
  }
  const rates: StreamRates[] = [];
  for (const v of variants) {
    const r = v.rates;
    rates.push(r);
    const codecs = audioUri ? `${v.codecs},${AUDIO_CODEC}` : v.codecs;
    const attrs = [
      `BANDWIDTH=${r.peak}`,
      `AVERAGE-BANDWIDTH=${r.average}`,
      `RESOLUTION=${v.width}x${v.height}`,
      `CODECS="${codecs}"`,
      `FRAME-RATE=${v.frameRate.toFixed(3)}`,
      ...(audioUri ? ['AUDIO="audio"'] : []),
    ];
    lines.push(`#EXT-X-STREAM-INF:${attrs.join(",")}`, v.uri);
  }
  return { text: `${lines.join("\n")}\n`, rates };
}

export interface MediaSegment {
  uri: string;
  duration: number;
}

/**
 * A media playlist of fMP4 segments. It is an EVENT playlist from its first segment on (it only
 * grows, players reload it) and gets EXT-X-ENDLIST once the rendition is complete, which turns
 * it into a finished, seekable VOD stream for every player without changing any earlier line.
 */
export function writeMediaPlaylist(input: {
  segments: readonly MediaSegment[];
  /** Upper bound of every segment's duration; fixed for the playlist's life (RFC 8216 4.3.3.1). */
  targetDuration: number;
  ended: boolean;
}): string {
  const lines = [
    "#EXTM3U",
    "#EXT-X-VERSION:7",
    `#EXT-X-TARGETDURATION:${Math.max(1, Math.ceil(input.targetDuration))}`,
    "#EXT-X-MEDIA-SEQUENCE:0",
    "#EXT-X-PLAYLIST-TYPE:EVENT",
    "#EXT-X-INDEPENDENT-SEGMENTS",
    "#EXT-X-START:TIME-OFFSET=0",
    '#EXT-X-MAP:URI="init.mp4"',
  ];
  for (const s of input.segments) lines.push(`#EXTINF:${s.duration.toFixed(6)},`, s.uri);
  if (input.ended) lines.push("#EXT-X-ENDLIST");
  return `${lines.join("\n")}\n`;
}

/**
 * The complete entries of a media playlist that ffmpeg may be rewriting right now: only lines
 * ended by a newline count, so a half-written file yields fewer segments, never a broken one.
 */
export function parseGrowingPlaylist(text: string): MediaSegment[] {
  const complete = text.slice(0, text.lastIndexOf("\n") + 1);
  return parseMediaPlaylist(complete).filter((s) => /^seg-\d+\.m4s$/.test(s.uri) && s.duration > 0);
}
