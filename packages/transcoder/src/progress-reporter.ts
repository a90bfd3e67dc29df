import type { Bus, Logger, TranscodeProgress } from "@reelkit/core";

/** Reports of one job at most this often (a stage change goes at once), unless told otherwise. */
const MIN_INTERVAL_MS = 500;

/**
 * Publishes a job's `video.transcode.progress` events in order without holding up the work
 * (each is a committed row or a broker write): a new whole percent at most every half second
 * (the latest one goes when the interval ends, and when the job flushes), a new stage at once.
 * Under a burst every event is a row the server applies, and a video's `playable` event waits
 * behind its earlier progress events (one key, in order): one event per percent put up to two
 * seconds between a video becoming playable and its viewers learning it. Progress is advisory:
 * a bus outage does not fail the job (ready and failed are retried instead).
 */
export class ProgressReporter {
  #sent: { stage: TranscodeProgress["stage"]; percent: number } | null = null;
  #sentAt = 0;
  #latest: { stage: TranscodeProgress["stage"]; percent: number } | null = null;
  #timer: NodeJS.Timeout | null = null;
  #pending: Promise<void> = Promise.resolve();

  constructor(
    private readonly opts: { bus: Bus; videoId: string; attempt: number; logger: Logger; minIntervalMs?: number },
  ) {}

  /** Queues one report; a percent already sent is skipped. */
  report(stage: TranscodeProgress["stage"], percent: number): void {
    const p = Math.floor(percent);
    const latest = this.#latest ?? this.#sent;
    if (latest && latest.percent === p && latest.stage === stage) return;
    this.#latest = { stage, percent: p };
    const wait = this.#sentAt + (this.opts.minIntervalMs ?? MIN_INTERVAL_MS) - Date.now();
    if (this.#sent?.stage === stage && wait > 0) {
      this.#timer ??= setTimeout(() => this.#send(), wait);
      this.#timer.unref?.();
      return;
    }
    this.#send();
  }

  #send(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    const report = this.#latest;
    this.#latest = null;
    if (!report) return;
    this.#sent = report;
    this.#sentAt = Date.now();
    const { bus, videoId, attempt, logger } = this.opts;
    this.#pending = this.#pending.then(() =>
      bus
        .publish("video.transcode.progress", { videoId, attempt, ...report }, videoId)
        .catch((err) => logger.warn({ err, videoId }, "could not publish progress")),
    );
  }

  /** Sends the latest report still held back, and resolves once every report went out (or was given up). */
  flushed(): Promise<void> {
    this.#send();
    return this.#pending;
  }
}
