import type { Logger } from "@reelkit/core";

export interface OrphanSweepOptions {
  catalog: {
    listActive(before: Date): Promise<{ id: string; attempt: number }[]>;
    requeue(videoId: string, attempt: number): Promise<unknown>;
  };
  outbox: { hasPending(key: string): Promise<boolean> };
  /**
   * Whether the bus still holds work for the video (a queued, running or retrying job). Null
   * when the bus cannot tell (Kafka): then only `staleBefore` decides.
   */
  busOwns: ((videoId: string) => Promise<boolean>) | null;
  /** Videos changed after this are left alone (their work may be in flight). */
  staleBefore: Date;
  logger?: Logger;
}

/**
 * Nothing stays stuck: QUEUED or PROCESSING videos whose work nobody owns any more (no pending
 * outbox row, no job on the bus) are queued again with a new attempt. Runs at start-up and
 * periodically. Returns the ids it queued.
 */
export async function requeueOrphans(opts: OrphanSweepOptions): Promise<string[]> {
  const queued: string[] = [];
  for (const video of await opts.catalog.listActive(opts.staleBefore)) {
    try {
      if (await opts.outbox.hasPending(video.id)) continue;
      if (opts.busOwns && (await opts.busOwns(video.id))) continue;
      if (await opts.catalog.requeue(video.id, video.attempt)) queued.push(video.id);
    } catch (err) {
      opts.logger?.error({ err, videoId: video.id }, "could not requeue a video");
    }
  }
  if (queued.length > 0) opts.logger?.warn({ videoIds: queued }, "queued again videos whose work nobody owned");
  return queued;
}
