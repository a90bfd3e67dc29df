import type { Bus, Logger, TranscodeProgress } from "@reelkit/core";

/**
 * Publishes a job's `video.transcode.progress` events in order without holding up the work
 * (each is a committed row or a broker write), once per whole percent. Progress is advisory:
 * a bus outage does not fail the job (ready and failed are retried instead).
 */
export class ProgressReporter {
  #last = -1;
  #pending: Promise<void> = Promise.resolve();

  constructor(private readonly opts: { bus: Bus; videoId: string; attempt: number; logger: Logger }) {}

  /** Queues one report; a percent already sent is skipped. */
  report(stage: TranscodeProgress["stage"], percent: number): void {
    const p = Math.floor(percent);
    if (p === this.#last) return;
    this.#last = p;
    const { bus, videoId, attempt, logger } = this.opts;
    this.#pending = this.#pending.then(() =>
      bus
        .publish("video.transcode.progress", { videoId, attempt, percent: p, stage }, videoId)
        .catch((err) => logger.warn({ err, videoId }, "could not publish progress")),
    );
  }

  /** Resolves once every queued report went out (or was given up). */
  flushed(): Promise<void> {
    return this.#pending;
  }
}
