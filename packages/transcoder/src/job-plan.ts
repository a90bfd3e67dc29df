import type { Rendition, TranscodePlayable, TranscodeReady } from "@reelkit/core";
import { AUDIO_BITRATE, AUDIO_CODEC, h264Codec, h264SourceCodec, SEGMENT_SECONDS } from "./ffmpeg-args.js";
import type { PublishedRendition } from "./hls-publisher.js";
import { displaySize, planLadder, type Rung } from "./ladder.js";
import { type PassthroughPlan, planPassthrough } from "./passthrough.js";
import type { NominalVariant, StreamRates } from "./playlist.js";
import type { ProbeResult } from "./probe.js";

/** What a job makes of one source: decided from the probe alone, before ffmpeg runs. */
export interface JobPlan {
  probe: ProbeResult;
  ladder: Rung[];
  /** Set when the source's video is copied into the top rung. */
  passthrough: Extract<PassthroughPlan, { passthrough: true }> | undefined;
  /** Why every rung is encoded (undefined when the source passes through). */
  encodeReason: string | undefined;
  /** Size as shown to viewers. */
  display: { width: number; height: number };
  /** Every directory ffmpeg writes and the publisher copies: the rungs, then `audio`. */
  renditions: PublishedRendition[];
  /** The master playlist's variants at the rates aimed at, in ladder order. */
  variants: NominalVariant[];
  audio: { uri: string; bitrate: number } | null;
}

/**
 * Plans a job from the probe: the ladder, whether the source passes through, the renditions to
 * publish (a copied segment ends at the first source keyframe past its nominal end, so its
 * target duration grows by the longest keyframe gap) and the nominal master's variants.
 */
export function planJob(input: {
  probe: ProbeResult;
  /** Source keyframe times (empty when the source cannot pass through). */
  keyframes: readonly number[];
  /** Bytes of the source: a copied rung's nominal rate is the source's own. */
  sourceSize: number;
  rungs: readonly number[];
}): JobPlan {
  const { probe } = input;
  const ladder = planLadder(probe, input.rungs);
  const plan = planPassthrough({ probe, ladder, keyframes: input.keyframes });
  const passthrough = plan.passthrough ? plan : undefined;
  const videoTarget = SEGMENT_SECONDS + (passthrough?.maxGapSec ?? 0);
  const renditions: PublishedRendition[] = [
    ...ladder.map((r) => ({ name: r.name, targetDuration: videoTarget })),
    ...(probe.hasAudio ? [{ name: "audio", targetDuration: SEGMENT_SECONDS + 1 }] : []),
  ];
  const sourceRate = Math.round((input.sourceSize * 8) / probe.durationSec);
  const variants = ladder.map((r, i): NominalVariant => {
    const copied = passthrough !== undefined && i === 0;
    return {
      uri: `${r.name}/index.m3u8`,
      width: r.width,
      height: r.height,
      codecs: copied
        ? h264SourceCodec(probe.video.profile, probe.video.level)
        : h264Codec(r.width, r.height, probe.frameRate),
      frameRate: probe.frameRate,
      video: copied
        ? { peak: Math.round(sourceRate * 1.5), average: sourceRate }
        : { peak: r.maxrate, average: r.videoBitrate },
    };
  });
  return {
    probe,
    ladder,
    passthrough,
    encodeReason: plan.passthrough ? undefined : plan.reason,
    display: displaySize(probe),
    renditions,
    variants,
    audio: probe.hasAudio ? { uri: "audio/index.m3u8", bitrate: AUDIO_BITRATE } : null,
  };
}

/** The catalog's renditions of a plan, with the rates its master playlist states. */
export function renditionsOf(plan: JobPlan, rates: readonly StreamRates[], hlsPrefix: string): Rendition[] {
  return plan.variants.map((v, i) => ({
    name: plan.ladder[i]?.name ?? v.uri,
    width: v.width,
    height: v.height,
    bandwidth: rates[i]?.peak ?? 0,
    averageBandwidth: rates[i]?.average ?? 0,
    codecs: plan.audio ? `${v.codecs},${AUDIO_CODEC}` : v.codecs,
    frameRate: v.frameRate,
    playlistKey: `${hlsPrefix}${v.uri}`,
  }));
}

interface MessageRef {
  videoId: string;
  attempt: number;
  masterKey: string;
  hlsPrefix: string;
}

function describe(plan: JobPlan) {
  return {
    durationSec: plan.probe.durationSec,
    width: plan.display.width,
    height: plan.display.height,
    frameRate: plan.probe.frameRate,
    hasAudio: plan.probe.hasAudio,
  };
}

/** `video.transcode.playable`: the master is stored and every rendition it names has begun. */
export function playableMessage(plan: JobPlan, ref: MessageRef & { rates: readonly StreamRates[] }): TranscodePlayable {
  return {
    videoId: ref.videoId,
    attempt: ref.attempt,
    masterKey: ref.masterKey,
    ...describe(plan),
    renditions: renditionsOf(plan, ref.rates, ref.hlsPrefix),
    passthrough: plan.passthrough !== undefined,
  };
}

/** `video.transcode.ready`: every rendition ended, measured master and images stored. */
export function readyMessage(
  plan: JobPlan,
  ref: MessageRef & {
    rates: readonly StreamRates[];
    images: { posterKey: string; storyboardKey: string; storyboardVttKey: string };
  },
): TranscodeReady {
  return {
    videoId: ref.videoId,
    attempt: ref.attempt,
    ...describe(plan),
    renditions: renditionsOf(plan, ref.rates, ref.hlsPrefix),
    masterKey: ref.masterKey,
    ...ref.images,
  };
}

/** Short side a playable phase aims at when the source must be encoded: small and quick, still watchable. */
export const PLAYABLE_SHORT_SIDE = 360;

/**
 * The two phases of a job. Playable: what makes the video watchable as cheaply as possible —
 * the copied top rung of a passthrough source, else one rung encoded fast (the smallest at or
 * above 360p, or the largest when every rung is smaller) — and the audio. Ladder: the rest.
 */
export interface PhasePlan {
  /** Renditions the playable phase publishes (rungs first, then `audio`). */
  playable: string[];
  /** Rungs the ladder phase adds. */
  ladder: string[];
  /** The rung encoded fast in the playable phase (null for a passthrough source). */
  fastRung: string | null;
}

export function planPhases(plan: Pick<JobPlan, "ladder" | "passthrough" | "audio">): PhasePlan {
  const short = (r: Rung) => Math.min(r.width, r.height);
  const first = plan.passthrough
    ? plan.ladder[0]
    : ([...plan.ladder].reverse().find((r) => short(r) >= PLAYABLE_SHORT_SIDE) ?? plan.ladder[0]);
  const name = first?.name ?? "";
  return {
    playable: [name, ...(plan.audio ? ["audio"] : [])],
    ladder: plan.ladder.filter((r) => r.name !== name).map((r) => r.name),
    fastRung: plan.passthrough ? null : name,
  };
}

/** The plan restricted to some renditions (what one phase publishes, or the master names so far). */
export function planWith(plan: JobPlan, names: readonly string[]): JobPlan {
  const keep = new Set(names);
  const rungs = plan.ladder.map((r, i) => ({ r, v: plan.variants[i] })).filter(({ r }) => keep.has(r.name));
  return {
    ...plan,
    ladder: rungs.map(({ r }) => r),
    variants: rungs.map(({ v }) => v as NominalVariant),
    renditions: plan.renditions.filter((r) => keep.has(r.name)),
    audio: keep.has("audio") ? plan.audio : null,
  };
}
