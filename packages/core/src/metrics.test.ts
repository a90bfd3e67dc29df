import { describe, expect, it } from "vitest";
import { InProcessBus } from "./bus/in-process-bus.js";
import { createMetrics, instrumentTranscoderBus, registerGauge } from "./metrics.js";

const uploaded = (videoId: string) => ({ videoId, attempt: 1, sourceKey: `videos/${videoId}/source` });

describe("metrics", () => {
  it("counts and times transcode jobs by the outcome their handler published", async () => {
    const metrics = createMetrics({ process: "test" });
    const bus = instrumentTranscoderBus(new InProcessBus(), metrics);
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
            renditions: [],
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
        }
        // any other video: handed back unfinished
      },
    });
    for (const id of ["ok", "bad", "bad", "stopped"]) await bus.publish("video.uploaded", uploaded(id));
    const jobs = await metrics.jobs.get();
    expect(Object.fromEntries(jobs.values.map((v) => [v.labels.outcome, v.value]))).toEqual({
      ready: 1,
      failed: 2,
      aborted: 1,
    });
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/reelkit_transcode_job_duration_seconds_count\{process="test",outcome="failed"\} 2/);
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
