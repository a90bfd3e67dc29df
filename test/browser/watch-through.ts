import { execFileSync } from "node:child_process";
import type { Page } from "playwright-core";

/**
 * Watching one video from its first frame to its end in Chromium, as a viewer would, and what the
 * viewer went through: how long the picture stood still, whether it ever jumped backwards on its
 * own, how long the whole watch took. Shared by the processing-playback browser test and the
 * instant-playback benchmark.
 */

/** The picture stood still while playing (a `waiting` spinner, or frames that did not advance). */
export interface Stall {
  /** Media time where it stood still, seconds. */
  at: number;
  seconds: number;
}

/** `currentTime` went backwards without a seek the viewer asked for. */
export interface BackwardJump {
  from: number;
  to: number;
  /** Wall milliseconds after the first frame. */
  after: number;
}

export interface WatchReport {
  /** Wall clock (ms epoch) of the first `playing`. */
  firstFrameAt: number;
  /** Wall clock (ms epoch) of `ended`; null when it never came. */
  endedAt: number | null;
  /** Wall seconds from the first frame to `ended` (or to the timeout). */
  wallSeconds: number;
  /** Seconds the playhead stood still while not paused, after the first frame. */
  stallSeconds: number;
  stalls: Stall[];
  backwardJumps: BackwardJump[];
  /** `seeking` events (the viewer never seeks here: each one was the player's own). */
  seeks: number[];
  /** `waiting` events after the first frame. */
  waits: number;
  /** The element's duration at the end. */
  duration: number;
  /** The furthest `currentTime` reached. */
  furthest: number;
  error: string | null;
  /** Media events as they came (ms after the first frame, type, currentTime, duration), for failures. */
  log: string[];
}

interface Recorder {
  firstFrameAt: number;
  endedAt: number | null;
  last: number;
  furthest: number;
  lastAdvanceAt: number;
  stalled: { at: number; since: number } | null;
  stalls: Stall[];
  jumps: BackwardJump[];
  seeks: number[];
  waits: number;
  error: string | null;
  log: string[];
}

declare global {
  interface Window {
    __watch?: Recorder;
  }
}

/** The playhead counts as standing still once it has not advanced for this long (frames are 33 ms). */
const STILL_MS = 250;

/**
 * Records the page's first `<video>` from its first `playing` on. Install before the page loads
 * (it becomes an init script), so no event is missed: listeners in the capture phase on the
 * window see every media event of every element, and a 50 ms sampler catches a playhead that
 * stands still without a `waiting` event.
 */
export async function recordWatch(page: Page): Promise<void> {
  // Run by tsx (the benchmarks), esbuild keeps function names with a `__name` helper that the
  // page does not have; a string is not transformed, so it defines one first.
  await page.addInitScript({ content: "globalThis.__name ??= (f) => f;" });
  await page.addInitScript(
    ({ stillMs }) => {
      const r: Recorder = {
        firstFrameAt: 0,
        endedAt: null,
        last: 0,
        furthest: 0,
        lastAdvanceAt: 0,
        stalled: null,
        stalls: [],
        jumps: [],
        seeks: [],
        waits: 0,
        error: null,
        log: [],
      };
      window.__watch = r;
      const video = () => document.querySelector("video");
      const observe = (v: HTMLVideoElement) => {
        if (r.firstFrameAt === 0 || r.endedAt !== null) return;
        const now = Date.now();
        const t = v.currentTime;
        if (t < r.last - 0.01) r.jumps.push({ from: r.last, to: t, after: now - r.firstFrameAt });
        if (t > r.last + 0.001) {
          if (r.stalled) {
            const seconds = (now - r.stalled.since) / 1000;
            r.stalls.push({ at: r.stalled.at, seconds });
            r.stalled = null;
          }
          r.lastAdvanceAt = now;
        } else if (!v.paused && !v.ended && r.stalled === null && now - r.lastAdvanceAt > stillMs) {
          r.stalled = { at: t, since: r.lastAdvanceAt };
        }
        r.last = t;
        r.furthest = Math.max(r.furthest, t);
      };
      const on = (type: string, fn: (v: HTMLVideoElement) => void) =>
        window.addEventListener(
          type,
          (e) => {
            if (e.target instanceof HTMLVideoElement && e.target === video()) fn(e.target);
          },
          true,
        );
      on("playing", (v) => {
        if (r.firstFrameAt === 0) {
          r.firstFrameAt = Date.now();
          r.lastAdvanceAt = r.firstFrameAt;
          r.last = v.currentTime;
        }
        observe(v);
      });
      on("timeupdate", observe);
      on("waiting", (v) => {
        if (r.firstFrameAt !== 0 && r.endedAt === null) r.waits++;
        observe(v);
      });
      for (const type of ["loadstart", "emptied", "seeking", "seeked", "waiting", "playing", "durationchange"])
        on(type, (v) => {
          const after = r.firstFrameAt ? Date.now() - r.firstFrameAt : -1;
          r.log.push(`${after} ${type} t=${v.currentTime.toFixed(2)} d=${v.duration.toFixed(2)}`);
        });
      on("seeking", (v) => {
        if (r.firstFrameAt !== 0) r.seeks.push(v.currentTime);
      });
      on("ended", (v) => {
        observe(v);
        if (r.stalled) r.stalls.push({ at: r.stalled.at, seconds: (Date.now() - r.stalled.since) / 1000 });
        r.stalled = null;
        r.endedAt = Date.now();
      });
      on("error", (v) => {
        r.error = v.error?.message || `MEDIA_ERR ${v.error?.code ?? "?"}`;
      });
      setInterval(() => {
        const v = video();
        if (v) observe(v);
      }, 50);
    },
    { stillMs: STILL_MS },
  );
}

/** Waits for the recorded video's `ended` (or an error, or the timeout) and reports the watch. */
export async function watchReport(page: Page, opts: { timeoutMs: number }): Promise<WatchReport> {
  await page
    .waitForFunction(() => window.__watch?.endedAt != null || window.__watch?.error != null, null, {
      timeout: opts.timeoutMs,
      polling: 200,
    })
    .catch(() => undefined);
  const { r, duration } = await page.evaluate(() => {
    const v = document.querySelector("video");
    return { r: window.__watch as Recorder, duration: v ? v.duration : Number.NaN };
  });
  const end = r.endedAt ?? Date.now();
  const open = r.stalled ? [{ at: r.stalled.at, seconds: (end - r.stalled.since) / 1000 }] : [];
  const stalls = [...r.stalls, ...open];
  return {
    firstFrameAt: r.firstFrameAt,
    endedAt: r.endedAt,
    wallSeconds: r.firstFrameAt ? (end - r.firstFrameAt) / 1000 : 0,
    stallSeconds: stalls.reduce((sum, s) => sum + s.seconds, 0),
    stalls,
    backwardJumps: r.jumps,
    seeks: r.seeks,
    waits: r.waits,
    duration,
    furthest: r.furthest,
    error: r.error,
    log: r.log,
  };
}

/** One line for people: the figures of a watch. */
export function describeWatch(w: WatchReport): string {
  const fixed = (n: number) => n.toFixed(2);
  const stalls = w.stalls.map((s) => `${fixed(s.seconds)} s at ${fixed(s.at)}`).join(", ");
  const jumps = w.backwardJumps.map((j) => `${fixed(j.from)} → ${fixed(j.to)}`).join(", ");
  return (
    `watched ${fixed(w.furthest)} of ${fixed(w.duration)} s in ${fixed(w.wallSeconds)} s, ` +
    `stalled ${fixed(w.stallSeconds)} s${stalls ? ` (${stalls})` : ""}, ` +
    `${w.backwardJumps.length} backward jumps${jumps ? ` (${jumps})` : ""}, ${w.seeks.length} seeks of its own` +
    (w.error ? `, error: ${w.error}` : "")
  );
}

export type WatchClipKind = "h264" | "hevc";

/**
 * A clip like a phone's or a camera's, made by ffmpeg's lavfi sources: `hevc` is 10-bit HEVC
 * (hvc1) in a .mov with 48 kHz AAC, portrait (the transcoder encodes every rung); `h264` is
 * High-profile H.264 with B-frames and a 1 s GOP in .mp4 (its top rung passes through).
 */
export function makeWatchClip(opts: {
  ffmpeg: string;
  kind: WatchClipKind;
  seconds: number;
  file: string;
  /** Width x height; default 1080x1920 (hevc), 1920x1080 (h264). */
  size?: string;
  /** x264/x265 preset; default ultrafast (the clip's making is not what is measured). */
  preset?: string;
}): void {
  const { kind, seconds: s } = opts;
  const size = opts.size ?? (kind === "hevc" ? "1080x1920" : "1920x1080");
  const preset = opts.preset ?? "ultrafast";
  const hevc = ["-c:v", "libx265", "-preset", preset, "-x265-params", "log-level=error", "-pix_fmt", "yuv420p10le"];
  const h264 = [
    "-c:v",
    "libx264",
    "-preset",
    preset,
    "-profile:v",
    "high",
    "-bf",
    "3",
    "-g",
    "30",
    "-pix_fmt",
    "yuv420p",
  ];
  const video = kind === "hevc" ? [...hevc, "-tag:v", "hvc1", "-b:v", "6M"] : [...h264, "-b:v", "6M"];
  execFileSync(opts.ffmpeg, [
    ...["-v", "error", "-y", "-f", "lavfi", "-i", `testsrc2=size=${size}:rate=30:duration=${s}`],
    ...["-f", "lavfi", "-i", `sine=frequency=440:duration=${s}:sample_rate=48000`],
    ...video,
    ...["-c:a", "aac", "-ac", "2", "-shortest", "-f", kind === "hevc" ? "mov" : "mp4", opts.file],
  ]);
}
