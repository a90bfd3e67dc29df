import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { Bus, SubscribeOptions } from "./bus/bus.js";
import type { EventPayloads, HandlerMap, Topic } from "./events.js";

/**
 * The Prometheus metrics of one Reelkit process, on a registry of its own (never prom-client's
 * global one, so several apps in one process stay apart). The server and a standalone
 * transcoder build the same set; each fills in what it does.
 */
export interface Metrics {
  registry: Registry;
  /** `reelkit_http_request_duration_seconds{method,route,status_code}`. */
  httpDuration: Histogram<"method" | "route" | "status_code">;
  /** `reelkit_uploads_total{event}`: created, finished, terminated. */
  uploads: Counter<"event">;
  /** `reelkit_transcode_jobs_total{outcome}`: ready, failed, aborted (handed back unfinished). */
  jobs: Counter<"outcome">;
  /** `reelkit_transcode_job_duration_seconds{outcome}`: from taking a job to its outcome. */
  jobDuration: Histogram<"outcome">;
  /**
   * `reelkit_transcode_queue_wait_seconds`: from `video.uploaded` being published to a
   * transcoder starting it (each delivery), the queue lag as the transcoders see it.
   */
  queueWait: Histogram;
}

export function createMetrics(opts: { process: string }): Metrics {
  const registry = new Registry();
  registry.setDefaultLabels({ process: opts.process });
  collectDefaultMetrics({ register: registry, prefix: "reelkit_" });
  return {
    registry,
    httpDuration: new Histogram({
      name: "reelkit_http_request_duration_seconds",
      help: "HTTP request latency, by route template",
      labelNames: ["method", "route", "status_code"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    uploads: new Counter({
      name: "reelkit_uploads_total",
      help: "tus uploads by event: created, finished, terminated",
      labelNames: ["event"],
      registers: [registry],
    }),
    jobs: new Counter({
      name: "reelkit_transcode_jobs_total",
      help: "Transcode jobs by outcome: ready, failed, aborted",
      labelNames: ["outcome"],
      registers: [registry],
    }),
    jobDuration: new Histogram({
      name: "reelkit_transcode_job_duration_seconds",
      help: "Transcode job duration by outcome",
      labelNames: ["outcome"],
      buckets: [1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 3600],
      registers: [registry],
    }),
    queueWait: new Histogram({
      name: "reelkit_transcode_queue_wait_seconds",
      help: "Time from a job being queued to a transcoder starting it, per delivery",
      buckets: [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600],
      registers: [registry],
    }),
  };
}

/**
 * A gauge read at scrape time, e.g. the age of the oldest message not yet published
 * (`reelkit_queue_lag_seconds`). A failing read leaves the gauge out of that scrape.
 */
export function registerGauge(
  metrics: Metrics,
  opts: { name: string; help: string; read: () => Promise<number> },
): void {
  new Gauge({
    name: opts.name,
    help: opts.help,
    registers: [metrics.registry],
    async collect() {
      this.set(await opts.read());
    },
  });
}

type Terminal = "video.transcode.ready" | "video.transcode.failed";
const OUTCOME: Record<Terminal, string> = { "video.transcode.ready": "ready", "video.transcode.failed": "failed" };

/**
 * Wraps the bus a transcoder consumes from: every `video.uploaded` handler run is timed, and its
 * outcome is the terminal event it published for that video (none: aborted, handed back).
 * The transcoder itself stays free of metrics code.
 */
export function instrumentTranscoderBus(bus: Bus, metrics: Metrics): Bus {
  const outcomes = new Map<string, string>();
  return {
    async publish<T extends Topic>(topic: T, payload: EventPayloads[T], key?: string) {
      await bus.publish(topic, payload, key);
      const outcome = OUTCOME[topic as Terminal];
      if (outcome) outcomes.set((payload as { videoId: string }).videoId, outcome);
    },
    subscribe(group: string, handlers: HandlerMap, options?: SubscribeOptions) {
      const uploaded = handlers["video.uploaded"];
      const ladder = handlers["video.transcode.ladder"];
      if (!uploaded) return bus.subscribe(group, handlers, options);
      // One job per video: a playable phase that queued its ladder phase is counted with the ladder.
      const timed =
        (phase: "playable" | "ladder", handler: NonNullable<typeof uploaded>) =>
        async (event: Parameters<typeof handler>[0], ctx: Parameters<typeof handler>[1]) => {
          if (phase === "playable" && ctx.enqueuedAt) {
            metrics.queueWait.observe(Math.max(0, (Date.now() - ctx.enqueuedAt.getTime()) / 1000));
          }
          const stop = metrics.jobDuration.startTimer();
          outcomes.delete(event.videoId);
          let threw = false;
          try {
            await handler(event, ctx);
          } catch (err) {
            threw = true;
            throw err;
          } finally {
            // No terminal event: handed back on a stop, or failed and to be retried.
            const known = outcomes.get(event.videoId);
            const outcome = known ?? (threw && !ctx.signal.aborted ? "retried" : "aborted");
            outcomes.delete(event.videoId);
            if (known || threw || ctx.signal.aborted || phase === "ladder" || !ladder) {
              stop({ outcome });
              metrics.jobs.inc({ outcome });
            }
          }
        };
      return bus.subscribe(
        group,
        {
          ...handlers,
          "video.uploaded": timed("playable", uploaded),
          // The ladder topic carries the same payload as video.uploaded (TranscodeLadderSchema).
          ...(ladder
            ? { "video.transcode.ladder": timed("ladder", ladder as unknown as NonNullable<typeof uploaded>) }
            : {}),
        },
        options,
      );
    },
    unsubscribe: (group: string) => bus.unsubscribe(group),
    ping: () => bus.ping(),
    close: () => bus.close(),
  };
}
