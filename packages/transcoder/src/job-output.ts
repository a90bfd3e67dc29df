import fs from "node:fs/promises";
import path from "node:path";
import { keys, type Storage } from "@reelkit/core";
import { runFfmpeg } from "./ffmpeg-runner.js";
import { planStoryboard, posterArgs, type StoryboardPlan, storyboardArgs, storyboardVtt } from "./images.js";
import type { JobPlan } from "./job-plan.js";
import { parseMediaPlaylist, type StreamRates, writeMasterPlaylist } from "./playlist.js";

/** A measured rendition as stored in a phase's record (JSON). */
export type MeasuredStreamRecord = { segments: { duration: number; size: number }[]; initSize?: number };

/** Sizes and durations of a finished rendition ffmpeg wrote into `dir`. */
export async function measureRendition(dir: string): Promise<MeasuredStreamRecord> {
  const text = await fs.readFile(path.join(dir, "index.m3u8"), "utf8");
  const segments = await Promise.all(
    parseMediaPlaylist(text).map(async (s) => ({
      duration: s.duration,
      size: (await fs.stat(path.join(dir, s.uri))).size,
    })),
  );
  const initSize = (await fs.stat(path.join(dir, "init.mp4")).catch(() => null))?.size ?? 0;
  return { segments, initSize };
}

/** The master playlist of a finished ladder, from measured segment sizes (nothing stored yet). */
export async function measuredMaster(plan: JobPlan, outDir: string): Promise<{ text: string; rates: StreamRates[] }> {
  const audio = plan.audio ? { uri: plan.audio.uri, ...(await measureRendition(path.join(outDir, "audio"))) } : null;
  const variants = await Promise.all(
    plan.variants.map(async (v, i) => ({
      ...v,
      video: await measureRendition(path.join(outDir, plan.ladder[i]?.name ?? "")),
    })),
  );
  return writeMasterPlaylist({ variants, audio });
}

export interface StoredImages {
  posterKey: string;
  storyboardKey: string;
  storyboardVttKey: string;
}

/** Where a job's poster and storyboard are rendered, and how. */
export interface ImagePlan {
  poster: { output: string; atSec: number };
  storyboard: { output: string; plan: StoryboardPlan };
}

export function planImages(plan: JobPlan, work: string): ImagePlan {
  const durationSec = plan.probe.durationSec;
  return {
    poster: { output: path.join(work, "poster.jpg"), atSec: Math.min(1, durationSec / 3) },
    storyboard: { output: path.join(work, "storyboard.jpg"), plan: planStoryboard({ durationSec, ...plan.display }) },
  };
}

async function isFile(file: string): Promise<boolean> {
  return (await fs.stat(file).catch(() => null))?.isFile() ?? false;
}

/**
 * Stores the poster and the storyboard sprite (+ its WebVTT map). The ladder's encoding run
 * renders them from its own frames (`imageOutputs`); whatever it did not render (a source with
 * no rung left to encode) is rendered here from the source.
 */
export async function publishImages(opts: {
  storage: Storage;
  videoId: string;
  ffmpeg: string;
  source: string;
  plan: JobPlan;
  images: ImagePlan;
  signal: AbortSignal;
  /** CPU niceness of the renders made here. */
  nice?: number;
}): Promise<StoredImages> {
  const { storage, videoId, plan, signal, images } = opts;
  const { poster, storyboard } = images;
  const renders: [string, () => string[]][] = [
    [poster.output, () => posterArgs({ input: opts.source, ...poster })],
    [storyboard.output, () => storyboardArgs({ input: opts.source, ...storyboard })],
  ];
  for (const [output, args] of renders) {
    if (!(await isFile(output))) await runFfmpeg({ ffmpeg: opts.ffmpeg, args: args(), signal, nice: opts.nice });
  }
  await storage.putFile(keys.poster(videoId), poster.output);
  await storage.putFile(keys.storyboard(videoId), storyboard.output);
  await storage.put(keys.storyboardVtt(videoId), storyboardVtt(storyboard.plan, plan.probe.durationSec));
  return {
    posterKey: keys.poster(videoId),
    storyboardKey: keys.storyboard(videoId),
    storyboardVttKey: keys.storyboardVtt(videoId),
  };
}

/** Deletes what an earlier, different output of the video left under its HLS prefix. */
export async function removeOutputOtherThan(storage: Storage, videoId: string, kept: Iterable<string>): Promise<void> {
  const current = new Set([...kept, keys.master(videoId)]);
  for (const o of await storage.list(keys.hlsPrefix(videoId))) if (!current.has(o.key)) await storage.delete(o.key);
}

/**
 * Takes down what a job that ended FAILED had published while it ran (EVENT playlists that would
 * never end): the master first, so no new player starts, then the media playlists, then the
 * segments they named, so no playlist ever names a segment that is gone.
 */
export async function removePublishedOutput(storage: Storage, videoId: string): Promise<void> {
  const prefix = keys.hlsPrefix(videoId);
  await storage.delete(keys.master(videoId));
  const objects = await storage.list(prefix);
  await Promise.all(objects.filter((o) => o.key.endsWith(".m3u8")).map((o) => storage.delete(o.key)));
  await storage.deletePrefix(prefix);
}
