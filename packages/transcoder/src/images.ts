/** Pure argv builders and text for poster and storyboard (scrub preview) images. */
import { type ExtraOutput, QUIET_ARGS } from "./ffmpeg-args.js";

export interface StoryboardPlan {
  interval: number;
  count: number;
  cols: number;
  rows: number;
  tileWidth: number;
  tileHeight: number;
}

export function planStoryboard(opts: { durationSec: number; width: number; height: number }): StoryboardPlan {
  const interval = Math.max(1, Math.ceil(opts.durationSec / 100));
  const count = Math.max(1, Math.ceil(opts.durationSec / interval));
  const cols = Math.min(count, 10);
  const tileWidth = 160;
  const tileHeight = Math.max(2, Math.round((tileWidth * opts.height) / opts.width / 2) * 2);
  return { interval, count, cols, rows: Math.ceil(count / cols), tileWidth, tileHeight };
}

export function posterArgs(opts: { input: string; output: string; atSec: number }): string[] {
  return [...QUIET_ARGS, "-ss", opts.atSec.toFixed(3), "-i", opts.input, "-frames:v", "1", "-q:v", "3", opts.output];
}

function storyboardFilter(p: StoryboardPlan): string {
  return `fps=1/${p.interval},scale=${p.tileWidth}:${p.tileHeight},setsar=1,tile=${p.cols}x${p.rows}`;
}

export function storyboardArgs(opts: { input: string; output: string; plan: StoryboardPlan }): string[] {
  const vf = storyboardFilter(opts.plan);
  return [...QUIET_ARGS, "-i", opts.input, "-vf", vf, "-frames:v", "1", "-q:v", "5", opts.output];
}

/**
 * The poster and the storyboard as further outputs of an encoding run, from the frames it
 * decodes anyway: apart, each image decoded the source once more (the storyboard all of it:
 * ≈ 2.2 CPU s for a 20 s 720p clip, as much as the decode of the ladder itself).
 */
export function imageOutputs(opts: {
  poster: { output: string; atSec: number };
  storyboard: { output: string; plan: StoryboardPlan };
}): ExtraOutput[] {
  return [
    {
      // One frame, then the branch ends: frames past it would each still be converted for the encoder.
      filter: `trim=start=${opts.poster.atSec.toFixed(3)},trim=end_frame=1`,
      args: ["-frames:v", "1", "-q:v", "3", opts.poster.output],
    },
    {
      filter: storyboardFilter(opts.storyboard.plan),
      args: ["-frames:v", "1", "-q:v", "5", opts.storyboard.output],
    },
  ];
}

function ts(sec: number): string {
  const ms = Math.round(sec * 1000);
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = Math.floor((ms % 60_000) / 1000);
  const pad = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${pad(h)}:${pad(m)}:${pad(s)}.${pad(ms % 1000, 3)}`;
}

/** WebVTT mapping time ranges to sprite tiles (`storyboard.jpg#xywh=x,y,w,h`). */
export function storyboardVtt(plan: StoryboardPlan, durationSec: number, imageUri = "storyboard.jpg"): string {
  const out = ["WEBVTT", ""];
  for (let i = 0; i < plan.count; i++) {
    const start = i * plan.interval;
    const end = Math.min((i + 1) * plan.interval, durationSec);
    if (end <= start) break;
    const x = (i % plan.cols) * plan.tileWidth;
    const y = Math.floor(i / plan.cols) * plan.tileHeight;
    out.push(`${ts(start)} --> ${ts(end)}`, `${imageUri}#xywh=${x},${y},${plan.tileWidth},${plan.tileHeight}`, "");
  }
  return out.join("\n");
}
