import type { Rung } from "./ladder.js";

/** Every ffmpeg run: no banner, no stdin, overwrite, errors only (progress comes from -progress). */
export const QUIET_ARGS = ["-hide_banner", "-nostdin", "-y", "-loglevel", "error"] as const;

export interface HlsJob {
  input: string;
  /** Local output directory; each rung writes `<outDir>/<rung.name>/`, audio `<outDir>/audio/`. */
  outDir: string;
  ladder: readonly Rung[];
  /** Output frame rate (constant); the GOP is two seconds of it. */
  frameRate: number;
  hasAudio: boolean;
  segmentSeconds?: number;
  gopSeconds?: number;
  audioBitrate?: number;
}

export const AUDIO_BITRATE = 128_000;
export const AUDIO_CODEC = "mp4a.40.2";

/** H.264 levels: max macroblocks per second and per frame (ITU-T H.264 table A-1). */
const LEVELS: ReadonlyArray<[level: number, mbPerSec: number, mbPerFrame: number]> = [
  [30, 40_500, 1_620],
  [31, 108_000, 3_600],
  [32, 216_000, 5_120],
  [40, 245_760, 8_192],
  [42, 522_240, 8_704],
  [50, 589_824, 22_080],
  [51, 983_040, 36_864],
  [52, 2_073_600, 36_864],
];

/** Smallest H.264 level that fits a size and frame rate, e.g. 31 for 720p30. */
export function h264Level(width: number, height: number, frameRate: number): number {
  const perFrame = Math.ceil(width / 16) * Math.ceil(height / 16);
  const perSec = perFrame * frameRate;
  return LEVELS.find(([, s, f]) => perSec <= s && perFrame <= f)?.[0] ?? 52;
}

/** RFC 6381 codec string for High profile at the rung's level, e.g. `avc1.64001f`. */
export function h264Codec(width: number, height: number, frameRate: number): string {
  return `avc1.6400${h264Level(width, height, frameRate).toString(16).padStart(2, "0")}`;
}

function fmtLevel(level: number): string {
  return `${Math.floor(level / 10)}.${level % 10}`;
}

function fmtRate(fps: number): string {
  return String(Math.round(fps * 1000) / 1000);
}

function hlsOutput(dir: string, segmentSeconds: number): string[] {
  return [
    "-f",
    "hls",
    "-hls_time",
    String(segmentSeconds),
    "-hls_segment_type",
    "fmp4",
    "-hls_playlist_type",
    "vod",
    "-hls_flags",
    "independent_segments",
    "-hls_fmp4_init_filename",
    "init.mp4",
    "-hls_segment_filename",
    `${dir}/seg-%03d.m4s`,
    `${dir}/index.m3u8`,
  ];
}

/**
 * The argv for ONE ffmpeg process that decodes the source once and encodes every rung: the
 * decoded video is forced to a constant frame rate, split, scaled per rung, and each branch is
 * its own HLS output; audio is a separate AAC-LC stereo rendition. Keyframes are aligned across
 * rungs by a fixed GOP, no scene-cut keyframes and forced keyframes every `gopSeconds`.
 * `-var_stream_map` is not used so each output keeps independent, predictable file names.
 */
export function buildHlsArgs(job: HlsJob): string[] {
  const segmentSeconds = job.segmentSeconds ?? 6;
  const gopSeconds = job.gopSeconds ?? 2;
  const gop = String(Math.max(1, Math.round(job.frameRate * gopSeconds)));
  const n = job.ladder.length;
  if (n === 0) throw new RangeError("the ladder has no rungs");
  const branches = job.ladder.map((_, i) => `[s${i}]`).join("");
  const scales = job.ladder.map((r, i) => `[s${i}]scale=${r.width}:${r.height},setsar=1[v${i}]`);
  const filter = [`[0:v:0]fps=${fmtRate(job.frameRate)},split=${n}${branches}`, ...scales].join(";");

  const args = [...QUIET_ARGS, "-progress", "pipe:1", "-nostats"];
  args.push("-i", job.input, "-filter_complex", filter);
  job.ladder.forEach((r, i) => {
    args.push(
      "-map",
      `[v${i}]`,
      "-an",
      "-c:v",
      "libx264",
      "-preset",
      "veryfast",
      "-profile:v",
      "high",
      "-level:v",
      fmtLevel(h264Level(r.width, r.height, job.frameRate)),
      "-pix_fmt",
      "yuv420p",
      "-b:v",
      String(r.videoBitrate),
      "-maxrate",
      String(r.maxrate),
      "-bufsize",
      String(r.bufsize),
      "-g",
      gop,
      "-keyint_min",
      gop,
      "-sc_threshold",
      "0",
      "-force_key_frames",
      `expr:gte(t,n_forced*${gopSeconds})`,
      ...hlsOutput(`${job.outDir}/${r.name}`, segmentSeconds),
    );
  });
  if (job.hasAudio) {
    args.push(
      "-map",
      "0:a:0",
      "-vn",
      "-c:a",
      "aac",
      "-profile:a",
      "aac_low",
      "-b:a",
      String(job.audioBitrate ?? AUDIO_BITRATE),
      "-ac",
      "2",
      "-ar",
      "48000",
      ...hlsOutput(`${job.outDir}/audio`, segmentSeconds),
    );
  }
  return args;
}
