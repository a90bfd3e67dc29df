/**
 * Text tracks: SRT and WebVTT files parsed into cues (errors name the line), written back as
 * WebVTT with cue text reduced to plain text plus <b>, <i> and <u>, and cut into HLS subtitle
 * segments aligned with a media playlist. Pure: no I/O.
 */

export interface Cue {
  /** Seconds. */
  start: number;
  end: number;
  /** WebVTT cue settings as given (`line:0 align:start`), already checked for safe characters. */
  settings: string;
  /** Escaped WebVTT cue text: lines joined with "\n". */
  text: string;
}

export type CaptionFormat = "vtt" | "srt";

/** A caption file that cannot be read; `line` is 1-based (0 for the file as a whole). */
export class CaptionParseError extends Error {
  constructor(
    readonly line: number,
    reason: string,
  ) {
    super(line > 0 ? `Line ${line}: ${reason}` : reason);
    this.name = "CaptionParseError";
  }
}

/** At most this many cues in a track (a feature film has ~2,000). */
export const MAX_CUES = 20_000;

const TIMING = /^((?:\d+:)?\d{2}:\d{2}[.,]\d{3})[ \t]+-->[ \t]+((?:\d+:)?\d{2}:\d{2}[.,]\d{3})(?:[ \t]+(.*))?$/;
/** WebVTT cue settings: `name:value` pairs of safe characters only. */
const SETTINGS = /^(?:(?:vertical|line|position|size|align|region):[A-Za-z0-9.%,:-]+(?:[ \t]+|$))*$/;

function seconds(stamp: string): number {
  const parts = stamp.replace(",", ".").split(":");
  const s = Number(parts.pop());
  const m = Number(parts.pop());
  const h = parts.length ? Number(parts.pop()) : 0;
  return h * 3600 + m * 60 + s;
}

/** `HH:MM:SS.mmm` (WebVTT always allows hours). */
export function vttTime(t: number): string {
  const ms = Math.round(t * 1000);
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = Math.floor((ms % 60_000) / 1000);
  const pad = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${pad(h)}:${pad(m)}:${pad(s)}.${pad(ms % 1000, 3)}`;
}

const KEPT_TAG = /^<\/?(?:b|i|u)>$/i;
const ENTITY = /^&(?:amp|lt|gt|lrm|rlm|nbsp);/;

/**
 * Cue text as plain text: <b>, <i> and <u> are kept (lower-cased), every other tag (SRT's
 * <font>, HTML of any kind, WebVTT classes and voices) is dropped, and any other `<`, `>` or `&`
 * is escaped, so no player can ever render cue text as markup.
 */
export function sanitizeCueText(line: string): string {
  let out = "";
  let i = 0;
  while (i < line.length) {
    const ch = line[i] as string;
    if (ch === "<") {
      const close = line.indexOf(">", i);
      const tag = close < 0 ? "" : line.slice(i, close + 1);
      if (tag && /^<\/?[A-Za-z][^<>]*>$|^<\d[\d:.]*>$/.test(tag)) {
        if (KEPT_TAG.test(tag)) out += tag.toLowerCase();
        i = close + 1;
        continue;
      }
      out += "&lt;";
    } else if (ch === ">") out += "&gt;";
    else if (ch === "&") out += ENTITY.test(line.slice(i)) ? "&" : "&amp;";
    else out += ch;
    i++;
  }
  return out;
}

/** Decodes a caption file: UTF-8 only (a byte order mark is dropped). */
export function decodeCaptionFile(body: Buffer): string {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(body);
  } catch {
    throw new CaptionParseError(0, "The file is not UTF-8 text");
  }
}

/** Cues of an SRT or WebVTT file, in file order; throws CaptionParseError naming the line. */
export function parseCaptions(text: string, format: CaptionFormat): Cue[] {
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  let i = 0;
  if (format === "vtt") {
    if (!/^WEBVTT(?:[ \t].*)?$/.test(lines[0] ?? "")) {
      throw new CaptionParseError(1, 'A WebVTT file starts with "WEBVTT"');
    }
    // The header runs to the first blank line.
    while (i < lines.length && lines[i] !== "") i++;
  }
  const cues: Cue[] = [];
  while (i < lines.length) {
    while (i < lines.length && (lines[i] as string).trim() === "") i++;
    if (i >= lines.length) break;
    const blockStart = i;
    const first = lines[i] as string;
    if (format === "vtt" && /^(?:NOTE|STYLE|REGION)(?:[ \t]|$)/.test(first)) {
      while (i < lines.length && lines[i] !== "") i++;
      continue;
    }
    // An identifier line (SRT's counter, an optional WebVTT id) may come before the timing.
    let timingLine = i;
    if (!(lines[i] as string).includes("-->")) {
      if (format === "srt" && !/^\d+$/.test(first.trim())) {
        throw new CaptionParseError(i + 1, `Expected a cue number or a timing line, found ${quote(first)}`);
      }
      timingLine = i + 1;
    }
    const timing = TIMING.exec((lines[timingLine] ?? "").trim());
    if (!timing) {
      throw new CaptionParseError(
        timingLine + 1,
        `Expected a timing line such as "00:00:01${format === "srt" ? "," : "."}000 --> 00:00:03${format === "srt" ? "," : "."}500", found ${quote(lines[timingLine] ?? "end of file")}`,
      );
    }
    const start = seconds(timing[1] as string);
    const end = seconds(timing[2] as string);
    if (!(end > start)) throw new CaptionParseError(timingLine + 1, "The cue ends before it starts");
    const settings = format === "vtt" ? (timing[3] ?? "").trim() : "";
    if (settings && !SETTINGS.test(settings)) {
      throw new CaptionParseError(timingLine + 1, `Unknown cue settings ${quote(settings)}`);
    }
    i = timingLine + 1;
    const text: string[] = [];
    while (i < lines.length && (lines[i] as string).trim() !== "") {
      text.push(sanitizeCueText(lines[i] as string));
      i++;
    }
    if (text.length === 0 && format === "srt") throw new CaptionParseError(blockStart + 1, "The cue has no text");
    cues.push({ start, end, settings, text: text.join("\n") });
    if (cues.length > MAX_CUES) throw new CaptionParseError(timingLine + 1, `More than ${MAX_CUES} cues`);
  }
  if (cues.length === 0) throw new CaptionParseError(0, "The file has no cues");
  return cues;
}

function quote(s: string): string {
  const short = s.length > 40 ? `${s.slice(0, 40)}…` : s;
  return JSON.stringify(short);
}

function cueBlock(cue: Cue): string {
  const settings = cue.settings ? ` ${cue.settings}` : "";
  return `${vttTime(cue.start)} --> ${vttTime(cue.end)}${settings}\n${cue.text}\n`;
}

/** The whole track as one WebVTT file (the `<track>` form). */
export function writeWebVtt(cues: readonly Cue[]): string {
  return `WEBVTT\n\n${cues.map(cueBlock).join("\n")}`;
}

/**
 * `X-TIMESTAMP-MAP` of every subtitle segment: cue times are media times (the fMP4 segments
 * start at presentation time 0), so local zero is MPEG-TS time zero.
 */
export const TIMESTAMP_MAP = "X-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000";

export interface SubtitleSegments {
  /** The media playlist of the track (VOD, one WebVTT segment per media segment). */
  playlist: string;
  /** Segment file names (relative to the playlist) and their WebVTT text. */
  segments: { name: string; text: string }[];
}

/**
 * Cuts a track into WebVTT segments on the boundaries of a media playlist (the same EXTINF
 * durations, so subtitle and media segments line up and no segment is longer than the target
 * duration). A cue that spans a boundary is written into each segment it overlaps, as the HLS
 * spec allows: players drop the repeats.
 */
export function segmentCaptions(cues: readonly Cue[], media: readonly { duration: number }[]): SubtitleSegments {
  const segments: { name: string; text: string }[] = [];
  const lines = ["#EXTM3U", "#EXT-X-VERSION:3"];
  const target = Math.max(1, ...media.map((s) => Math.round(s.duration)));
  lines.push(`#EXT-X-TARGETDURATION:${target}`, "#EXT-X-MEDIA-SEQUENCE:0", "#EXT-X-PLAYLIST-TYPE:VOD");
  let at = 0;
  media.forEach((segment, n) => {
    const from = at;
    const to = at + segment.duration;
    const last = n === media.length - 1;
    const inside = cues.filter((c) => c.end > from && (c.start < to || (last && c.start >= from)));
    const name = `seg-${n}.vtt`;
    segments.push({ name, text: `WEBVTT\n${TIMESTAMP_MAP}\n\n${inside.map(cueBlock).join("\n")}` });
    lines.push(`#EXTINF:${segment.duration.toFixed(6).replace(/\.?0+$/, "")},`, name);
    at = to;
  });
  lines.push("#EXT-X-ENDLIST", "");
  return { playlist: lines.join("\n"), segments };
}

/** What the master playlist needs to know of a track. */
export interface SubtitleRendition {
  language: string;
  label: string;
  kind: "subtitles" | "captions";
  isDefault: boolean;
  /** The track's media playlist, relative to the master. */
  uri: string;
}

export const SUBTITLES_GROUP = "subs";

const attr = (s: string) => s.replace(/["\r\n]/g, "");

/**
 * The master playlist with a `SUBTITLES` group: one EXT-X-MEDIA per track (after the other
 * renditions) and `SUBTITLES="subs"` on every variant. The master as given when there are none.
 */
export function addSubtitlesToMaster(master: string, tracks: readonly SubtitleRendition[]): string {
  if (tracks.length === 0) return master;
  const media = tracks.map((t) => {
    const attrs = [
      "TYPE=SUBTITLES",
      `GROUP-ID="${SUBTITLES_GROUP}"`,
      `NAME="${attr(t.label)}"`,
      `LANGUAGE="${attr(t.language)}"`,
      `DEFAULT=${t.isDefault ? "YES" : "NO"}`,
      "AUTOSELECT=YES",
      "FORCED=NO",
    ];
    if (t.kind === "captions") {
      attrs.push(
        'CHARACTERISTICS="public.accessibility.transcribes-spoken-dialog,public.accessibility.describes-music-and-sound"',
      );
    }
    attrs.push(`URI="${attr(t.uri)}"`);
    return `#EXT-X-MEDIA:${attrs.join(",")}`;
  });
  const out: string[] = [];
  let placed = false;
  for (const line of master.split("\n")) {
    if (!placed && line.startsWith("#EXT-X-STREAM-INF:")) {
      out.push(...media);
      placed = true;
    }
    if (line.startsWith("#EXT-X-STREAM-INF:") && !line.includes("SUBTITLES=")) {
      out.push(`${line},SUBTITLES="${SUBTITLES_GROUP}"`);
    } else out.push(line);
  }
  return out.join("\n");
}
