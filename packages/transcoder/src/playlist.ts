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
  const lines = ["#EXTM3U", "#EXT-X-VERSION:7", "#EXT-X-INDEPENDENT-SEGMENTS"];
  if (input.audio) {
    lines.push(
      `#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="Default",LANGUAGE="und",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="2",URI="${input.audio.uri}"`,
    );
  }
  const rates: StreamRates[] = [];
  for (const v of input.variants) {
    const video = measureRates(v.video);
    const r = { peak: video.peak + audio.peak, average: video.average + audio.average };
    rates.push(r);
    const codecs = input.audio ? `${v.codecs},${AUDIO_CODEC}` : v.codecs;
    const attrs = [
      `BANDWIDTH=${r.peak}`,
      `AVERAGE-BANDWIDTH=${r.average}`,
      `RESOLUTION=${v.width}x${v.height}`,
      `CODECS="${codecs}"`,
      `FRAME-RATE=${v.frameRate.toFixed(3)}`,
      ...(input.audio ? ['AUDIO="audio"'] : []),
    ];
    lines.push(`#EXT-X-STREAM-INF:${attrs.join(",")}`, v.uri);
  }
  return { text: `${lines.join("\n")}\n`, rates };
}
