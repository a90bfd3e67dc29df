import { spawn } from "node:child_process";
import path from "node:path";
import { Consumer, stringDeserializers } from "@platformatic/kafka";
import { afterEach, expect, it, vi } from "vitest";
import { describeWith, kafkaBrokers, kafkaMissing } from "../../../../test/engines.js";
import type { VideoUploaded } from "../events.js";
import { DEAD_LETTER_TOPIC, KafkaBus, type KafkaBusOptions } from "./kafka-bus.js";

// The delivery model on a real Apache Kafka broker. Every test uses its own topics and groups
// (a unique prefix), so runs never see each other's messages.

const open: KafkaBus[] = [];
let n = 0;
function harness(options: Partial<KafkaBusOptions> = {}) {
  const prefix = `t${Date.now()}${++n}.`;
  const make = (o: Partial<KafkaBusOptions> = {}) => {
    const bus = new KafkaBus({
      brokers: kafkaBrokers,
      prefix,
      partitions: 2,
      backoffMs: 50,
      sessionTimeoutMs: 6_000,
      ...options,
      ...o,
    });
    open.push(bus);
    return bus;
  };
  return { prefix, make };
}
const uploaded = (videoId: string): VideoUploaded => ({ videoId, attempt: 1, sourceKey: `videos/${videoId}/source` });

afterEach(async () => {
  await Promise.all(open.splice(0).map((b) => b.close()));
});

describeWith("kafka", kafkaMissing, "KafkaBus on a real broker", () => {
  it("creates its topics, delivers keyed messages and refuses an invalid payload at publish", async () => {
    const { make } = harness();
    const bus = make();
    const got: string[] = [];
    await bus.subscribe("g", { "video.uploaded": async (p) => void got.push(p.videoId) });
    for (const id of ["a", "b", "c"]) await bus.publish("video.uploaded", uploaded(id));
    await vi.waitFor(() => expect(got.sort()).toEqual(["a", "b", "c"]), { timeout: 20_000 });
    await expect(bus.publish("video.uploaded", { videoId: "" } as unknown as VideoUploaded)).rejects.toThrow(
      /invalid video.uploaded message/,
    );
  });

  it("commits only after the handler succeeded: a failure is retried with backoff", async () => {
    const { make } = harness();
    const bus = make();
    const deliveries: number[] = [];
    await bus.subscribe("g", {
      "video.uploaded": async (_p, ctx) => {
        deliveries.push(ctx.deliveryAttempt);
        if (deliveries.length < 3) throw new Error("disk full");
      },
    });
    await bus.publish("video.uploaded", uploaded("v"));
    await vi.waitFor(() => expect(deliveries).toEqual([1, 2, 3]), { timeout: 20_000 });
  });

  it("parks a poison message on the dead-letter topic after N tries, reports it, and moves on", async () => {
    const { prefix, make } = harness({ maxAttempts: 3 });
    const bus = make();
    const tries: string[] = [];
    const parked: { key: string; error: string }[] = [];
    await bus.subscribe(
      "g",
      {
        "video.uploaded": async (p) => {
          tries.push(p.videoId);
          if (p.videoId === "poison") throw new Error("cannot handle this one");
        },
      },
      { onParked: async (m, error) => void parked.push({ key: m.key, error }) },
    );
    await bus.publish("video.uploaded", uploaded("poison"), "same-key");
    await bus.publish("video.uploaded", uploaded("next"), "same-key");
    await vi.waitFor(() => expect(tries).toEqual(["poison", "poison", "poison", "next"]), { timeout: 20_000 });
    expect(parked).toEqual([{ key: "same-key", error: "cannot handle this one" }]);

    // The dead-letter topic holds the original message with its topic, error and attempts.
    const reader = new Consumer({
      clientId: "dlq-reader",
      groupId: `${prefix}dlq-reader`,
      bootstrapBrokers: kafkaBrokers,
      deserializers: stringDeserializers,
    });
    try {
      const stream = await reader.consume({
        topics: [`${prefix}${DEAD_LETTER_TOPIC}`],
        mode: "earliest",
        autocommit: false,
      });
      for await (const m of stream) {
        expect(JSON.parse(m.value)).toMatchObject({ videoId: "poison" });
        expect(m.headers.get("reelkit-topic")).toBe(`${prefix}video.uploaded`);
        expect(m.headers.get("reelkit-error")).toBe("cannot handle this one");
        expect(m.headers.get("reelkit-attempts")).toBe("3");
        break;
      }
      await stream.close();
    } finally {
      await reader.close(true);
    }
  });

  it("hands a running job back at once on stop: another member of the group gets it", async () => {
    const { make } = harness({ partitions: 1 });
    const first = make();
    let started = false;
    let abortedBy: unknown = null;
    await first.subscribe("g", {
      "video.uploaded": (_p, ctx) =>
        new Promise((_resolve, reject) => {
          started = true;
          ctx.signal.addEventListener("abort", () => {
            abortedBy = ctx.signal.reason;
            reject(ctx.signal.reason);
          });
        }),
    });
    await first.publish("video.uploaded", uploaded("handed-back"));
    await vi.waitFor(() => expect(started).toBe(true), { timeout: 20_000 });
    const second = make();
    const got: string[] = [];
    await second.subscribe("g", { "video.uploaded": async (p) => void got.push(p.videoId) });
    const t0 = Date.now();
    await first.unsubscribe("g");
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(String(abortedBy)).toMatch(/stopping/);
    await vi.waitFor(() => expect(got).toEqual(["handed-back"]), { timeout: 30_000 });
  });

  it("redelivers the message of a consumer process killed with SIGKILL to the rest of the group", async () => {
    const { prefix, make } = harness({ partitions: 1 });
    const script = `
      import { KafkaBus } from ${JSON.stringify(path.join(import.meta.dirname, "kafka-bus.ts"))};
      const bus = new KafkaBus({ brokers: ${JSON.stringify(kafkaBrokers)}, prefix: ${JSON.stringify(prefix)},
        partitions: 1, sessionTimeoutMs: 6000 });
      await bus.subscribe("g", { "video.uploaded": async (p) => {
        console.log("handling", p.videoId);
        await new Promise(() => {});
      } });
      console.log("subscribed");`;
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      out += d;
    });
    try {
      await vi.waitFor(() => expect(out).toContain("subscribed"), { timeout: 30_000 });
      const publisher = make();
      await publisher.publish("video.uploaded", uploaded("orphan"));
      await vi.waitFor(() => expect(out).toContain("handling orphan"), { timeout: 20_000 });
      child.kill("SIGKILL");
      const got: number[] = [];
      await make().subscribe("g", { "video.uploaded": async (_p, ctx) => void got.push(ctx.deliveryAttempt) });
      await vi.waitFor(() => expect(got).toEqual([1]), { timeout: 40_000 });
    } finally {
      child.kill("SIGKILL");
    }
  }, 90_000);
});
