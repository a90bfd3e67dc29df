import fs from "node:fs/promises";
import path from "node:path";
import { keys, type Storage } from "@reelkit/core";
import { runFfmpeg } from "./ffmpeg-runner.js";
import { planStoryboard, posterArgs, storyboardArgs, storyboardVtt } from "./images.js";
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

/** Renders the poster and the storyboard sprite (+ its WebVTT map) and stores them. */
export async function publishImages(opts: {
  storage: Storage;
  videoId: string;
  ffmpeg: string;
  source: string;
  plan: JobPlan;
  work: string;
  signal: AbortSignal;
}): Promise<StoredImages> {
  const { storage, videoId, plan, signal } = opts;
  const durationSec = plan.probe.durationSec;
  const storyboard = planStoryboard({ durationSec, ...plan.display });
  const poster = path.join(opts.work, "poster.jpg");
  const sprite = path.join(opts.work, "storyboard.jpg");
  await runFfmpeg({
    ffmpeg: opts.ffmpeg,
    args: posterArgs({ input: opts.source, output: poster, atSec: Math.min(1, durationSec / 3) }),
    signal,
  });
  await runFfmpeg({
    ffmpeg: opts.ffmpeg,
    args: storyboardArgs({ input: opts.source, output: sprite, plan: storyboard }),
    signal,
  });
  await storage.putFile(keys.poster(videoId), poster);
  await storage.putFile(keys.storyboard(videoId), sprite);
  await storage.put(keys.storyboardVtt(videoId), storyboardVtt(storyboard, durationSec));
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
