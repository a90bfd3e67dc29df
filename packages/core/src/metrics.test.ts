import { describe, expect, it, vi } from "vitest";
import { MemoryJobStore } from "./bus/memory-job-store.js";
import { QueueBus } from "./bus/queue-bus.js";
import { createMetrics, instrumentTranscoderBus, registerGauge } from "./metrics.js";

const uploaded = (videoId: string) => ({ videoId, attempt: 1, sourceKey: `videos/${videoId}/source` });

describe("metrics", () => {
  it("counts and times transcode jobs by the outcome their handler published", async () => {
    const metrics = createMetrics({ process: "test" });
    const queue = new QueueBus({ store: new MemoryJobStore(), pollMs: 10, maxAttempts: 1 });
    const bus = instrumentTranscoderBus(queue, metrics);
    await bus.subscribe("transcoder", {
      "video.uploaded": async (e) => {
        if (e.videoId === "ok") {
          await bus.publish("video.transcode.progress", {
            videoId: e.videoId,
            attempt: 1,
            percent: 50,
            stage: "encoding",
          });
          await bus.publish("video.transcode.ready", {
            videoId: e.videoId,
            attempt: 1,
            durationSec: 1,
            width: 2,
            height: 2,
            frameRate: 25,
            hasAudio: false,
            renditions: [
              {
                name: "2p",
                width: 2,
                height: 2,
                bandwidth: 1,
                averageBandwidth: 1,
                codecs: "avc1",
                frameRate: 25,
                playlistKey: "k",
              },
            ],
            masterKey: "m",
            posterKey: "p",
            storyboardKey: "s",
            storyboardVttKey: "v",
          });
        } else if (e.videoId === "bad") {
          await bus.publish("video.transcode.failed", {
            videoId: e.videoId,
            attempt: 1,
            code: "UNDECODABLE",
            reason: "no",
          });
        } else {
          // any other video: failed without an outcome (the bus retries or parks it)
          throw new Error("disk full");
        }
      },
    });
    for (const id of ["ok", "bad", "bad", "broken"]) await bus.publish("video.uploaded", uploaded(id));
    await vi.waitFor(async () => {
      const jobs = await metrics.jobs.get();
      expect(Object.fromEntries(jobs.values.map((v) => [v.labels.outcome, v.value]))).toEqual({
        ready: 1,
        failed: 2,
        retried: 1,
      });
    });
    await queue.close();
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/reelkit_transcode_job_duration_seconds_count\{process="test",outcome="failed"\} 2/);
    // Every delivery's wait since the job was queued.
    expect(text).toMatch(/reelkit_transcode_queue_wait_seconds_count\{process="test"\} 4\n/);
    expect(text).toContain("reelkit_process_resident_memory_bytes");
  });

  it("reads gauges at scrape time", async () => {
    const metrics = createMetrics({ process: "test" });
    let lag = 1.5;
    registerGauge(metrics, { name: "reelkit_queue_lag_seconds", help: "lag", read: async () => lag });
    expect(await metrics.registry.metrics()).toContain('reelkit_queue_lag_seconds{process="test"} 1.5');
    lag = 0;
    expect(await metrics.registry.metrics()).toContain('reelkit_queue_lag_seconds{process="test"} 0');
  });
});
