import { displaySize, type Rung } from "./ladder.js";
import type { ProbeResult } from "./probe.js";

/** H.264 profiles every browser with Media Source Extensions decodes. */
const PLAYABLE_PROFILES = new Set(["Constrained Baseline", "Baseline", "Main", "High"]);
/** Level 5.1 (4K30 / 1080p120) is the highest that desktop and phone browsers all declare. */
const MAX_LEVEL = 51;
/**
 * Longest keyframe interval kept as it is. Segments are cut at the first source keyframe after
 * every `segmentSeconds`, so a segment may last up to this much longer than that.
 */
export const MAX_PASSTHROUGH_GOP_SECONDS = 4;
/** Keyframes denser than this on average (intra-only video) would make the lower rungs all-intra. */
export const MIN_PASSTHROUGH_MEAN_GOP_SECONDS = 0.4;
/**
 * The forced-keyframe list goes into one ffmpeg argument, and Linux caps one argument at
 * 128 KiB: beyond this count (~4 h of 1 s GOPs) the source takes the encoded path.
 */
export const MAX_PASSTHROUGH_KEYFRAMES = 12_000;

export type PassthroughPlan =
  | {
      passthrough: true;
      /** Source keyframe times, ascending: the encoded rungs get keyframes at exactly these. */
      keyframes: number[];
      /** Longest interval between two keyframes (or the last one and the end), in seconds. */
      maxGapSec: number;
    }
  | { passthrough: false; reason: string };

/** True when a source's video may be stream-copied into HLS for browsers as it is. */
export function isStreamableCoding(probe: Pick<ProbeResult, "video" | "audioCodec" | "rotation">): string | null {
  const v = probe.video;
  if (v.codec !== "h264") return `video codec ${v.codec || "unknown"} is not H.264`;
  if (!PLAYABLE_PROFILES.has(v.profile)) return `H.264 profile ${v.profile || "unknown"} is not one browsers play`;
  if (!(v.level > 0 && v.level <= MAX_LEVEL)) return `H.264 level ${v.level / 10} is above ${MAX_LEVEL / 10}`;
  if (!/^yuvj?420p$/.test(v.pixFmt) || v.bitDepth !== 8) return `pixel format ${v.pixFmt} is not 8-bit 4:2:0`;
  if (probe.rotation !== 0) return "the video is rotated (players would show the copied stream sideways)";
  if (probe.audioCodec !== null && probe.audioCodec !== "aac") return `audio codec ${probe.audioCodec} is not AAC`;
  return null;
}

/**
 * Decides whether the source's video passes through as the top rung: H.264 8-bit 4:2:0 at a
 * browser level with AAC or no audio, not rotated, at exactly the size of the ladder's top rung
 * (a larger source is scaled down instead), with keyframes regular enough that every segment
 * stays short and the encoded rungs can be keyed at the same times.
 */
export function planPassthrough(input: {
  probe: Pick<ProbeResult, "video" | "audioCodec" | "rotation" | "width" | "height" | "durationSec">;
  ladder: readonly Rung[];
  keyframes: readonly number[];
}): PassthroughPlan {
  const { probe, ladder } = input;
  const coding = isStreamableCoding(probe);
  if (coding) return { passthrough: false, reason: coding };
  const top = ladder[0];
  const display = displaySize(probe);
  if (!top || top.width !== display.width || top.height !== display.height)
    return { passthrough: false, reason: "the source is larger than the top rung" };
  const kf = input.keyframes;
  const first = kf[0];
  if (first === undefined || first > 0.1)
    return { passthrough: false, reason: "the video does not start on a keyframe" };
  if (kf.length > MAX_PASSTHROUGH_KEYFRAMES) return { passthrough: false, reason: "too many keyframes" };
  let maxGapSec = 0;
  const end = Math.max(probe.durationSec, kf.at(-1) ?? 0);
  for (let i = 0; i < kf.length; i++) maxGapSec = Math.max(maxGapSec, (kf[i + 1] ?? end) - (kf[i] as number));
  if (maxGapSec > MAX_PASSTHROUGH_GOP_SECONDS)
    return { passthrough: false, reason: `keyframes up to ${maxGapSec.toFixed(1)} s apart are too sparse` };
  if (kf.length > 1 && end / kf.length < MIN_PASSTHROUGH_MEAN_GOP_SECONDS)
    return { passthrough: false, reason: "keyframes are too dense" };
  // ffmpeg starts the output timeline at the first frame: key the encoded rungs on that timeline.
  const keyframes = kf.map((t) => Math.round((t - first) * 1e6) / 1e6);
  return { passthrough: true, keyframes, maxGapSec: Math.round(maxGapSec * 1000) / 1000 };
}
