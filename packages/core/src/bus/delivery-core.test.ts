import { describe, expect, it } from "vitest";
import type { BusMessage, VideoUploaded } from "../events.js";
import { BusUnavailableError, type SubscribeOptions } from "./bus.js";
import { admit, afterFailure, type DeliveryTransport, deliver } from "./delivery-core.js";
import type { DeliveryPolicy } from "./delivery-policy.js";

const policy: DeliveryPolicy = { maxAttempts: 3, backoffMs: 100, maxBackoffMs: 250 };
const payload: VideoUploaded = { videoId: "v1", attempt: 1, sourceKey: "videos/v1/source" };

describe("delivery decisions", () => {
  it("runs a delivery up to the last attempt; one past it parks with the last error or says why", () => {
    expect(admit(policy, 1, null)).toEqual({ run: true });
    expect(admit(policy, 3, "boom")).toEqual({ run: true });
    expect(admit(policy, 4, "boom")).toEqual({ run: false, error: "boom", attempts: 3 });
    expect(admit(policy, 5, null)).toEqual({ run: false, error: "no outcome after 4 deliveries", attempts: 4 });
  });

  it("retries a failure with doubling backoff, parks at the last attempt, and leaves interrupted work alone", () => {
    expect(afterFailure(policy, 1, "e", null)).toEqual({ step: "retry", delayMs: 100, error: "e" });
    expect(afterFailure(policy, 2, "e", null)).toEqual({ step: "retry", delayMs: 200, error: "e" });
    expect(afterFailure(policy, 3, "e", null)).toEqual({ step: "park", error: "e", attempts: 3 });
    expect(afterFailure(policy, 3, "e", "stopping")).toEqual({ step: "hand-back" });
    expect(afterFailure(policy, 3, "e", "lost")).toEqual({ step: "lost" });
  });

  it("does not count a failure of the bus itself, even at the last attempt", () => {
    expect(afterFailure(policy, 3, "e", null, true)).toEqual({ step: "unavailable", error: "e" });
    expect(afterFailure(policy, 1, "e", null, true)).toEqual({ step: "unavailable", error: "e" });
    // A stop or a moved partition still wins: nothing runs it again here.
    expect(afterFailure(policy, 3, "e", "stopping", true)).toEqual({ step: "hand-back" });
    expect(afterFailure(policy, 3, "e", "lost", true)).toEqual({ step: "lost" });
  });
});

/** A transport that records what the core asked of it. */
function fake(attempts: number, lastError: string | null = null, interruption: "lost" | "stopping" | null = null) {
  const calls: string[] = [];
  const transport: DeliveryTransport = {
    begin: async () => ({ attempts, lastError }),
    ack: async () => void calls.push("ack"),
    retry: async (delayMs, error) => void calls.push(`retry ${delayMs} ${error}`),
    handBack: async () => void calls.push("hand-back"),
    lost: async () => void calls.push("lost"),
    unavailable: async (error) => void calls.push(`unavailable ${error}`),
    park: async (error, n) => void calls.push(`park ${n} ${error}`),
    interruption: () => interruption,
  };
  return { calls, transport };
}

function run(
  transport: DeliveryTransport,
  handler: () => Promise<void>,
  options: SubscribeOptions = {},
  body: unknown = payload,
) {
  return deliver({
    transport,
    policy,
    topic: "video.uploaded",
    key: "k",
    payload: body,
    handlers: { "video.uploaded": handler },
    options,
    signal: new AbortController().signal,
  });
}

describe("deliver", () => {
  it("acknowledges after the handler resolved, and retries a failure before the last attempt", async () => {
    const ok = fake(1);
    expect(await run(ok.transport, async () => {})).toBe("acked");
    expect(ok.calls).toEqual(["ack"]);
    const failed = fake(2);
    expect(
      await run(failed.transport, async () => {
        throw new Error("disk full");
      }),
    ).toBe("retried");
    expect(failed.calls).toEqual(["retry 200 disk full"]);
  });

  it("reports a message first and parks it only once the report succeeded", async () => {
    const { calls, transport } = fake(3);
    const reported: { message: BusMessage; error: string }[] = [];
    const outcome = await run(
      transport,
      async () => {
        throw new Error("poison");
      },
      {
        onParked: async (message, error) => {
          calls.push("report");
          reported.push({ message, error });
        },
      },
    );
    expect(outcome).toBe("parked");
    expect(calls).toEqual(["report", "park 3 poison"]);
    expect(reported).toEqual([{ message: { topic: "video.uploaded", key: "k", payload }, error: "poison" }]);
  });

  it("retries a message whose report failed, without parking it; the next delivery reports again without running", async () => {
    const first = fake(3);
    let runs = 0;
    const failing: SubscribeOptions = {
      onParked: async () => {
        throw new Error("database down");
      },
    };
    const handler = async () => {
      runs++;
      throw new Error("poison");
    };
    expect(await run(first.transport, handler, failing)).toBe("retried");
    expect(first.calls).toEqual(["retry 250 poison"]);

    const next = fake(4, "poison");
    const errors: string[] = [];
    expect(await run(next.transport, handler, { onParked: async (_m, error) => void errors.push(error) })).toBe(
      "parked",
    );
    expect(next.calls).toEqual(["park 3 poison"]);
    expect(errors).toEqual(["poison"]);
    expect(runs).toBe(1);
  });

  it("takes back a delivery whose handler failed because the bus could not take a message", async () => {
    // At the last attempt: a broker restart must not park a healthy job.
    const last = fake(3);
    const outcome = await run(last.transport, async () => {
      throw new Error("could not announce the video", {
        cause: new BusUnavailableError("Kafka did not take the message: Connection refused"),
      });
    });
    expect(outcome).toBe("retried");
    expect(last.calls).toEqual(["unavailable could not announce the video"]);
    // Any other failure at the last attempt parks it.
    const other = fake(3);
    expect(
      await run(other.transport, async () => {
        throw new Error("boom");
      }),
    ).toBe("parked");
    expect(other.calls).toEqual(["park 3 boom"]);
  });

  it("hands back on a stop, leaves a lost message to its new owner, and parks an invalid one unreported", async () => {
    const fail = async () => {
      throw new Error("aborted");
    };
    const stopped = fake(3, null, "stopping");
    expect(await run(stopped.transport, fail)).toBe("handed-back");
    expect(stopped.calls).toEqual(["hand-back"]);
    const lost = fake(3, null, "lost");
    expect(await run(lost.transport, fail)).toBe("lost");
    // Kafka takes the delivery back from its count (a rebalance is no fault of the job).
    expect(lost.calls).toEqual(["lost"]);

    const invalid = fake(1);
    const reported: string[] = [];
    expect(
      await run(
        invalid.transport,
        async () => {},
        { onParked: async (_m, e) => void reported.push(e) },
        { videoId: 1 },
      ),
    ).toBe("parked");
    expect(invalid.calls).toEqual([expect.stringMatching(/^park 0 invalid video.uploaded message/)]);
    expect(reported).toEqual([]);
  });
});
