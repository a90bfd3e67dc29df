import type { Bus, Config, Logger } from "@reelkit/core";
import type { Catalog } from "./catalog/catalog.js";
import { requeueOrphans } from "./catalog/orphan-sweep.js";
import type { OutboxRepository } from "./catalog/outbox.js";
import { OutboxRelay } from "./outbox/outbox-relay.js";

/** The consumer group of reelkit-server: it applies the transcoder's events to the catalog. */
export const SERVER_GROUP = "reelkit-server";

/** With the job queue, a video changed this recently is not swept (its work may be in flight). */
const OWNED_GRACE_MS = 30_000;

export interface ServerWorkOptions {
  config: Pick<Config, "staleJobSeconds">;
  catalog: Pick<Catalog, "transcodes" | "changes">;
  outbox: OutboxRepository;
  bus: Bus;
  /** See OrphanSweepOptions.busOwns. */
  busOwns: ((videoId: string) => Promise<boolean>) | null;
  logger?: Logger;
  /** How often the orphan sweep runs after the one at start. */
  sweepIntervalMs?: number;
  /** Outbox poll interval when idle. */
  relayIntervalMs?: number;
}

export interface ServerWork {
  /** Runs the orphan sweep now (also run at start and periodically). */
  sweep(): Promise<string[]>;
  stop(): Promise<void>;
}

/**
 * The server's background work, started and stopped by the runtime that owns the process:
 * the outbox relay, the consumer of transcoder events, and the sweep that queues again the
 * videos whose work nobody owns.
 */
export async function startServerWork(opts: ServerWorkOptions): Promise<ServerWork> {
  const { catalog, bus, logger } = opts;
  const relay = new OutboxRelay({ outbox: opts.outbox, bus, logger, intervalMs: opts.relayIntervalMs });
  // A change of a video may come with outbox rows (a queued video's job, its owner's webhook
  // events), written by any instance; missed changes may hide some too.
  const stopKick = catalog.changes.subscribe(() => relay.kick());
  const { transcodes } = catalog;
  await bus.subscribe(
    SERVER_GROUP,
    {
      "video.transcode.progress": async (e) => void (await transcodes.applyProgress(e)),
      "video.transcode.playable": async (e) => {
        if (await transcodes.applyPlayable(e)) {
          logger?.info({ videoId: e.videoId, attempt: e.attempt }, "video playable");
        }
      },
      "video.transcode.ready": async (e) => void (await transcodes.applyReady(e)),
      "video.transcode.failed": async (e) => void (await transcodes.applyFailed(e)),
    },
    {
      concurrency: 8,
      // The video stays active; the sweep queues it again once nothing owns it.
      onParked: async (message, error) =>
        logger?.error({ topic: message.topic, key: message.key, error }, "event parked"),
    },
  );
  relay.start();

  const sweep = () =>
    requeueOrphans({
      catalog: transcodes,
      outbox: opts.outbox,
      busOwns: opts.busOwns,
      staleBefore: new Date(Date.now() - (opts.busOwns ? OWNED_GRACE_MS : opts.config.staleJobSeconds * 1000)),
      logger,
    }).catch((err) => {
      logger?.error({ err }, "orphan sweep failed");
      return [] as string[];
    });
  let sweeping: Promise<unknown> = sweep();
  const timer = setInterval(() => {
    sweeping = sweeping.then(sweep);
  }, opts.sweepIntervalMs ?? 60_000);
  timer.unref();

  return {
    sweep: () => {
      const run = sweeping.then(sweep);
      sweeping = run;
      return run;
    },
    async stop() {
      clearInterval(timer);
      stopKick();
      await relay.stop();
      await sweeping;
      await bus.unsubscribe(SERVER_GROUP);
    },
  };
}
