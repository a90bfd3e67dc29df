import { type FSWatcher, watch } from "node:fs";
import { reniceGroup } from "./contained-process.js";
import { FfmpegError, runFfmpeg } from "./ffmpeg-runner.js";
import type { HlsPublisher } from "./hls-publisher.js";

/**
 * New segments are looked for whenever ffmpeg rewrites a playlist (inotify), and at least this
 * often in case a change notification is lost.
 */
const PUBLISH_FALLBACK_MS = 1_000;

/** Wakes the publishing loop whenever ffmpeg writes one of its playlists (index.m3u8). */
class PlaylistWatch {
  #changed = false;
  #wake: (() => void) | null = null;
  #closed = false;
  readonly #watchers: FSWatcher[] = [];

  constructor(dirs: readonly string[]) {
    for (const dir of dirs) {
      try {
        const w = watch(dir, (_event, name) => {
          if (name?.startsWith("index.m3u8")) this.#fire();
        });
        w.on("error", () => {}); // the fallback interval still finds the segments
        this.#watchers.push(w);
      } catch {
        // no inotify here: the fallback interval finds the segments
      }
    }
  }

  #fire(): void {
    this.#changed = true;
    this.#wake?.();
  }

  /** Resolves at the next playlist change since the last call (at once if there was one), or after `maxMs`. */
  async next(maxMs: number): Promise<void> {
    if (!this.#changed && !this.#closed) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, maxMs);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    this.#wake = null;
    this.#changed = false;
  }

  close(): void {
    this.#closed = true;
    for (const w of this.#watchers) w.close();
    this.#wake?.();
  }
}

/** ffmpeg exited by itself with an error: the input cannot be decoded (not worth a retry). */
export class UndecodableError extends Error {
  constructor(readonly ffmpeg: FfmpegError) {
    super(ffmpeg.message);
    this.name = "UndecodableError";
  }
}

/**
 * Runs the ffmpeg processes of one encode side by side (see buildHlsRuns) while `publisher`
 * copies their segments to storage as soon as ffmpeg lists them; `onPublished` runs after each
 * copy (e.g. to announce the video playable). Progress comes from the last run, the longest.
 * Any failure stops the other runs; a failed store stops ffmpeg at once. Resolves once every
 * run exited and the last segments are copied (the playlists not yet ended).
 *
 * Rejects with UndecodableError when ffmpeg exited by itself with an error (the input's fault),
 * otherwise with what stopped it (the signal's reason, an InterruptedError, a storage error).
 */
export async function encodeHls(opts: {
  ffmpeg: string;
  runs: readonly string[][];
  durationSec: number;
  /** Directories ffmpeg writes playlists into, watched for new segments. */
  watchDirs: readonly string[];
  publisher: HlsPublisher;
  onPublished: () => Promise<void>;
  onProgress?: (percent: number) => void;
  signal: AbortSignal;
  /** CPU niceness of the runs. */
  nice?: number;
  /**
   * CPU niceness of the runs once every rendition has a segment stored (the video plays): what
   * is left of them yields to work a viewer still waits for. Unset: unchanged.
   */
  niceOnceStarted?: number;
}): Promise<void> {
  const { publisher } = opts;
  let publishError: unknown = null;
  let encoding = true;
  const encoder = new AbortController();
  const watching = new PlaylistWatch(opts.watchDirs);
  const groups: number[] = [];
  let reniced = opts.niceOnceStarted === undefined;
  const lowerOnceStarted = () => {
    if (reniced || !publisher.started()) return;
    reniced = true;
    for (const pgid of groups) void reniceGroup(pgid, opts.niceOnceStarted as number);
  };
  const publishing = (async () => {
    while (encoding && publishError === null) {
      await watching.next(PUBLISH_FALLBACK_MS);
      if (!encoding) break;
      await publisher
        .sync({ final: false })
        .then(opts.onPublished)
        .then(lowerOnceStarted)
        .catch((err) => {
          publishError = err;
          encoder.abort(err);
        });
    }
  })();
  const failed = new AbortController();
  try {
    await Promise.all(
      opts.runs.map((args, i) =>
        runFfmpeg({
          ffmpeg: opts.ffmpeg,
          args,
          durationSec: opts.durationSec,
          signal: AbortSignal.any([opts.signal, encoder.signal, failed.signal]),
          nice: opts.nice,
          onSpawn: (pgid) => groups.push(pgid),
          onProgress: i === opts.runs.length - 1 ? opts.onProgress : undefined,
        }).catch((err) => {
          // The first failure stops the other runs; they then fail with the same reason.
          failed.abort(err);
        }),
      ),
    );
    if (failed.signal.aborted) {
      const err: unknown = failed.signal.reason;
      // Only an ffmpeg that exited by itself says something about the input; one ended by a
      // signal (InterruptedError) or by our stop (the abort reason) is retried.
      throw err instanceof FfmpegError ? new UndecodableError(err) : err;
    }
  } finally {
    encoding = false;
    watching.close();
    await publishing;
  }
  if (publishError !== null) throw publishError;
}
