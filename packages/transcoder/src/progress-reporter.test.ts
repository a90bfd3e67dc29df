import { type Bus, createLogger, type EventPayloads, type Topic } from "@reelkit/core";
import { describe, expect, it } from "vitest";
import { ProgressReporter } from "./progress-reporter.js";

/** A bus that only records what is published (the reporter publishes and nothing else). */
function recordingBus() {
  const sent: EventPayloads["video.transcode.progress"][] = [];
  const bus = {
    publish: async <T extends Topic>(_topic: T, payload: EventPayloads[T]) => {
      sent.push(payload as EventPayloads["video.transcode.progress"]);
    },
  } as unknown as Bus;
  return { bus, sent };
}

describe("ProgressReporter", () => {
  it("sends a new stage at once, a new percent at most once per interval (the latest), and the held one on flush", async () => {
    const { bus, sent } = recordingBus();
    const progress = new ProgressReporter({
      bus,
      videoId: "v",
      attempt: 1,
      logger: createLogger({ logLevel: "silent" }),
      minIntervalMs: 200,
    });
    progress.report("probing", 0);
    progress.report("encoding", 2);
    for (let p = 3; p <= 30; p++) progress.report("encoding", p);
    await new Promise((r) => setTimeout(r, 50));
    // The stage changes went at once; 3…30 within the interval are held, the latest kept.
    expect(sent.map((s) => [s.stage, s.percent])).toEqual([
      ["probing", 0],
      ["encoding", 2],
    ]);
    await new Promise((r) => setTimeout(r, 250));
    expect(sent.at(-1)).toMatchObject({ stage: "encoding", percent: 30 });
    expect(sent).toHaveLength(3);
    progress.report("encoding", 31);
    progress.report("encoding", 31);
    await progress.flushed();
    expect(sent.map((s) => s.percent)).toEqual([0, 2, 30, 31]);
    // Nothing new: nothing more on flush.
    await progress.flushed();
    expect(sent).toHaveLength(4);
  });
});
