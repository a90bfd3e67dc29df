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
  /** Length of the first video segments (see FIRST_SEGMENT_SECONDS); used when the GOP is one segment. */
  firstSegmentSeconds?: number;
  gopSeconds?: number;
  audioBitrate?: number;
  /**
   * Stream-copy the source's video into the top rung (`ladder[0]`, which must be the source's
   * own size) and key every encoded rung at exactly the source's keyframe times (seconds from
   * the start), so that the muxer cuts every rendition at the same instants.
   */
  passthrough?: { keyframes: readonly number[]; maxGapSec: number };
  /**
   * x264 tuned for latency (`-tune zerolatency`): the first segment of each rung is out after
   * about one segment of frames instead of that plus ~16 frames of lookahead, B-frame and
   * frame-thread delay, and the whole encode is faster, at a slightly lower quality per bit
   * (SSIM 25.05 dB instead of 25.28 dB on the benchmark's 720p rung at the same bitrate).
   */
  lowLatency?: boolean;
  /** x264 preset (default `veryfast`); a playable phase's fast rung uses `ultrafast`. */
  preset?: string;
  /**
   * Further outputs made from the same decoded frames as the encoded rungs (the poster and the
   * storyboard): each one's filter chain on its own branch of the video, then its output
   * options and path. Used only by a run that encodes a rung.
   */
  extraOutputs?: readonly ExtraOutput[];
}

/** One more output of an encoding run: `filter` on a branch of the decoded video, then `args`. */
export interface ExtraOutput {
  filter: string;
  args: readonly string[];
}

/**
 * Segment length in seconds: every rendition is cut at the first keyframe after each multiple
 * of it. Two seconds makes a video playable as soon as two seconds of every rung exist.
 */
export const SEGMENT_SECONDS = 2;

/**
 * The first video segment of the encoded path is this short, so a player can start once one
 * second of every rung is encoded instead of two. The HLS muxer ends its n-th segment at the
 * first keyframe at or past `n × hls_time`; with `hls_time` this short and one GOP per segment
 * the keyframes alone decide the cuts: 0, 1, 2, 4, 6 … s on the encoded path, the source's own
 * keyframes (at least this far apart) on the passthrough path; audio is cut every second.
 */
export const FIRST_SEGMENT_SECONDS = 1;

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

/** profile_idc + constraint flags (RFC 6381 `avc1.PPCCLL`) of the H.264 profiles that pass through. */
const PROFILE_HEX: Record<string, string> = {
  "Constrained Baseline": "42e0",
  Baseline: "4200",
  Main: "4d40",
  High: "6400",
};

/** RFC 6381 codec string of a copied H.264 stream, from ffprobe's profile name and level. */
export function h264SourceCodec(profile: string, level: number): string {
  return `avc1.${PROFILE_HEX[profile] ?? "6400"}${level.toString(16).padStart(2, "0")}`;
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
    // Media playlists are written by Reelkit; ffmpeg's lists each segment once it is complete.
    "-hls_playlist_type",
    "event",
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
 * `-force_key_frames` list: each time floored to the millisecond, so the frame AT a source
 * keyframe (not the one after it) is the first at or past the forced time.
 */
export function forcedKeyframeTimes(keyframes: readonly number[]): string {
  return keyframes.map((t) => (Math.floor(t * 1000 + 1e-6) / 1000).toFixed(3)).join(",");
}

/**
 * The argv for ONE ffmpeg process that decodes the source once and encodes every rung: the
 * decoded video is forced to a constant frame rate, split, scaled per rung, and each branch is
 * its own HLS output; audio is a separate AAC-LC stereo rendition. Keyframes are aligned across
 * rungs by a fixed GOP, no scene-cut keyframes and forced keyframes every `gopSeconds`.
 * `-var_stream_map` is not used so each output keeps independent, predictable file names.
 * With `passthrough`, the top rung is the source's own video, copied, and the rest are keyed
 * at its keyframes. (The transcoder runs `buildHlsRuns`, which splits a passthrough job in two.)
 */
export function buildHlsArgs(job: HlsJob): string[] {
  return hlsArgs(job, { copy: true, encode: true, audio: true });
}

/**
 * The ffmpeg processes of one job, run side by side. A passthrough job takes two: one copies
 * the source's video into the top rung and encodes the audio — it runs at the speed of the
 * disk, so the top rung is complete within seconds — and one encodes the lower rungs, tuned for
 * low latency (no frame-thread or lookahead delay, no B-frames) so their first segments land
 * sooner. In a single ffmpeg 5 process the copied stream could go no faster than the encoders.
 * Every other job is one process (buildHlsArgs).
 */
export function buildHlsRuns(job: HlsJob): string[][] {
  if (!job.passthrough) return [buildHlsArgs(job)];
  const runs = [hlsArgs(job, { copy: true, encode: false, audio: true })];
  if (job.ladder.length > 1)
    runs.push(hlsArgs({ ...job, lowLatency: true }, { copy: false, encode: true, audio: false }));
  return runs;
}

/**
 * The ffmpeg processes of one phase of a job (see job-plan.ts planPhases). Playable phase: a
 * passthrough source's copied top rung and its audio, or else one rung (`fastRung`) encoded
 * with x264's fastest settings, and the audio. Ladder phase: every other rung, keyed exactly as
 * the playable phase's rung (the source's keyframes, or the fixed GOP), so all rungs switch
 * cleanly. A ladder phase with nothing to encode has no run.
 */
export function buildPhaseRuns(job: HlsJob, phase: "playable" | "ladder", fastRung: string | null): string[][] {
  if (job.passthrough) {
    if (phase === "playable") return [hlsArgs(job, { copy: true, encode: false, audio: true })];
    return job.ladder.length > 1
      ? [hlsArgs({ ...job, lowLatency: true }, { copy: false, encode: true, audio: false })]
      : [];
  }
  const fast = job.ladder.filter((r) => r.name === fastRung);
  if (phase === "playable") {
    const ladder = fast.length > 0 ? fast : job.ladder.slice(0, 1);
    return [
      hlsArgs({ ...job, ladder, preset: "ultrafast", lowLatency: true }, { copy: false, encode: true, audio: true }),
    ];
  }
  const rest = job.ladder.filter((r) => r.name !== (fast[0]?.name ?? job.ladder[0]?.name));
  return rest.length > 0 ? [hlsArgs({ ...job, ladder: rest }, { copy: false, encode: true, audio: false })] : [];
}

function hlsArgs(job: HlsJob, parts: { copy: boolean; encode: boolean; audio: boolean }): string[] {
  const segmentSeconds = job.segmentSeconds ?? SEGMENT_SECONDS;
  const gopSeconds = job.gopSeconds ?? 2;
  // A short first segment needs a cut at every keyframe, so one GOP per segment.
  const firstSeconds = job.firstSegmentSeconds ?? FIRST_SEGMENT_SECONDS;
  const shortFirst = firstSeconds < segmentSeconds && gopSeconds === segmentSeconds;
  const cutEvery = shortFirst ? firstSeconds : segmentSeconds;
  // Keys at 0, the first cut, then every GOP (the n-th forced keyframe is the first frame at or
  // past its time).
  const fixedKeys = shortFirst
    ? `expr:if(lt(n_forced,2),gte(t,n_forced*${firstSeconds}),gte(t,(n_forced-1)*${gopSeconds}))`
    : `expr:gte(t,n_forced*${gopSeconds})`;
  if (job.ladder.length === 0) throw new RangeError("the ladder has no rungs");
  const copied = job.passthrough && parts.copy ? job.ladder.slice(0, 1) : [];
  const encoded = !parts.encode ? [] : job.passthrough ? job.ladder.slice(1) : job.ladder;
  // Keyframes: a fixed GOP, or exactly the source's keyframes (the encoder's own interval set
  // beyond the longest source interval so it never adds one in between).
  const keying = job.passthrough
    ? {
        gop: String(Math.max(1, Math.ceil(job.frameRate * (job.passthrough.maxGapSec + 1)))),
        force: forcedKeyframeTimes(job.passthrough.keyframes),
        minGop: [] as string[],
      }
    : {
        gop: String(Math.max(1, Math.round(job.frameRate * gopSeconds))),
        force: fixedKeys,
        minGop: ["-keyint_min", String(Math.max(1, Math.round(job.frameRate * gopSeconds)))],
      };
  const n = encoded.length;
  const extras = n > 0 ? (job.extraOutputs ?? []) : [];
  const branches = [...encoded, ...extras].map((_, i) => `[s${i}]`).join("");
  const scales = encoded.map((r, i) => `[s${i}]scale=${r.width}:${r.height},setsar=1[v${i}]`);
  const extraChains = extras.map((e, i) => `[s${n + i}]${e.filter}[x${i}]`);
  const filter = [
    `[0:v:0]fps=${fmtRate(job.frameRate)},split=${n + extras.length}${branches}`,
    ...scales,
    ...extraChains,
  ].join(";");

  const args = [...QUIET_ARGS, "-progress", "pipe:1", "-nostats"];
  args.push("-i", job.input);
  if (n > 0) args.push("-filter_complex", filter);
  for (const r of copied) {
    args.push("-map", "0:v:0", "-an", "-c:v", "copy", ...hlsOutput(`${job.outDir}/${r.name}`, cutEvery));
  }
  encoded.forEach((r, i) => {
    args.push(
      "-map",
      `[v${i}]`,
      "-an",
      "-c:v",
      "libx264",
      "-preset",
      job.preset ?? "veryfast",
      ...(job.lowLatency ? ["-tune", "zerolatency"] : []),
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
      keying.gop,
      ...keying.minGop,
      "-sc_threshold",
      "0",
      "-force_key_frames",
      keying.force,
      ...hlsOutput(`${job.outDir}/${r.name}`, cutEvery),
    );
  });
  extras.forEach((e, i) => {
    args.push("-map", `[x${i}]`, "-an", ...e.args);
  });
  if (job.hasAudio && parts.audio) {
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
      ...hlsOutput(`${job.outDir}/audio`, cutEvery),
    );
  }
  return args;
}
