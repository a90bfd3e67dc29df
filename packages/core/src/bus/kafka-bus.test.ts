import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Admin, Consumer, type Message, stringDeserializers } from "@platformatic/kafka";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { busContractSuite } from "../../../../test/bus-contract-suite.js";
import { describeWith, kafkaBrokers, kafkaMissing } from "../../../../test/engines.js";
import { type PrivateKafka, startPrivateKafka } from "../../../../test/private-kafka.js";
import type { VideoUploaded } from "../events.js";
import { LocalStorage } from "../storage/local-storage.js";
import { BusUnavailableError } from "./bus.js";
import { StorageDeliveryLedger } from "./delivery-ledger.js";
import { sleep } from "./delivery-policy.js";
import { DEAD_LETTER_TOPIC, KafkaBus, type KafkaBusOptions, transientKafkaError } from "./kafka-bus.js";

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
/** Every message on the dead-letter topic of `prefix` so far (read up to its end offsets). */
async function deadLetters(prefix: string, brokers = kafkaBrokers): Promise<Message<string, string, string, string>[]> {
  const topic = `${prefix}${DEAD_LETTER_TOPIC}`;
  const reader = new Consumer({
    clientId: "dlq-reader",
    groupId: `${prefix}dlq-reader-${++n}`,
    bootstrapBrokers: brokers,
    deserializers: stringDeserializers,
  });
  try {
    const ends = (await reader.listOffsets({ topics: [topic] })).get(topic) ?? [];
    const total = ends.reduce((sum, end) => sum + Number(end), 0);
    const out: Message<string, string, string, string>[] = [];
    if (total === 0) return out;
    const stream = await reader.consume({ topics: [topic], mode: "earliest", autocommit: false, maxWaitTime: 200 });
    for await (const m of stream) {
      out.push(m);
      if (out.length >= total) break;
    }
    await stream.close();
    return out;
  } finally {
    await reader.close(true);
  }
}

const uploaded = (videoId: string): VideoUploaded => ({ videoId, attempt: 1, sourceKey: `videos/${videoId}/source` });

/**
 * A KafkaBus consumer in a child process running `handler` (the body of an async function of
 * `p`, the payload, and `ctx`) in group "g", printing "subscribed" once it is in the group.
 */
function consumerProcess(opts: { prefix: string; handler: string; ledgerDir?: string; maxAttempts?: number }) {
  const script = `
    import { KafkaBus } from ${JSON.stringify(path.join(import.meta.dirname, "kafka-bus.ts"))};
    import { StorageDeliveryLedger } from ${JSON.stringify(path.join(import.meta.dirname, "delivery-ledger.ts"))};
    import { LocalStorage } from ${JSON.stringify(path.join(import.meta.dirname, "../storage/local-storage.ts"))};
    const bus = new KafkaBus({ brokers: ${JSON.stringify(kafkaBrokers)}, prefix: ${JSON.stringify(opts.prefix)},
      partitions: 1, sessionTimeoutMs: 6000, maxAttempts: ${opts.maxAttempts ?? 5} });
    const ledgerDir = ${JSON.stringify(opts.ledgerDir ?? null)};
    await bus.subscribe("g", { "video.uploaded": async (p, ctx) => { ${opts.handler} } },
      ledgerDir ? { deliveryLedger: new StorageDeliveryLedger(new LocalStorage(ledgerDir)) } : {});
    console.log("subscribed");`;
  const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.push(child);
  const proc = { child, out: "", exited: new Promise<void>((resolve) => child.once("exit", () => resolve())) };
  child.stdout?.setEncoding("utf8").on("data", (d: string) => {
    proc.out += d;
  });
  return proc;
}
const children: ChildProcess[] = [];

afterEach(async () => {
  for (const c of children.splice(0)) {
    c.kill("SIGCONT");
    c.kill("SIGKILL");
  }
  await Promise.all(open.splice(0).map((b) => b.close()));
});

describeWith("kafka", kafkaMissing, "KafkaBus on a real broker", () => {
  describe("the bus contract", () => {
    busContractSuite(async () => {
      const { prefix, make } = harness();
      return {
        bus: (o) => make(o),
        async parked(key) {
          return (await deadLetters(prefix))
            .filter((m) => m.key === key)
            .map((m) => m.headers.get("reelkit-error") ?? "");
        },
        // Group joins and rebalances take seconds; bounded all the same.
        patienceMs: 30_000,
      };
    });
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

    // The dead-letter topic holds the original message once, with its topic, error and attempts.
    const letters = await deadLetters(prefix);
    expect(letters).toHaveLength(1);
    const [m] = letters;
    expect(JSON.parse(m?.value ?? "null")).toMatchObject({ videoId: "poison" });
    expect(m?.headers.get("reelkit-topic")).toBe(`${prefix}video.uploaded`);
    expect(m?.headers.get("reelkit-error")).toBe("cannot handle this one");
    expect(m?.headers.get("reelkit-attempts")).toBe("3");
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

  it("parks a message whose handler kills its process, after N deliveries by different processes", async () => {
    const { prefix, make } = harness({ partitions: 1, maxAttempts: 2 });
    const ledgerDir = await fs.mkdtemp(path.join(os.tmpdir(), "reelkit-ledger-"));
    try {
      await make().publish("video.uploaded", uploaded("kills-its-consumer"));
      // Each process takes the message and dies in its handler, as an OOM-killed worker does.
      for (let i = 0; i < 2; i++) {
        const proc = consumerProcess({
          prefix,
          ledgerDir,
          maxAttempts: 2,
          handler: `console.log("delivery", ctx.deliveryAttempt); process.kill(process.pid, "SIGKILL");`,
        });
        await proc.exited;
        expect(proc.out).toContain(`delivery ${i + 1}`);
      }
      // The next consumer parks it without running its handler again, and says why.
      const handled: string[] = [];
      const parked: string[] = [];
      await make().subscribe(
        "g",
        { "video.uploaded": async (p) => void handled.push(p.videoId) },
        {
          deliveryLedger: new StorageDeliveryLedger(new LocalStorage(ledgerDir)),
          onParked: async (_m, error) => void parked.push(error),
        },
      );
      await vi.waitFor(() => expect(parked).toEqual(["no outcome after 2 deliveries"]), { timeout: 40_000 });
      expect(handled).toEqual([]);
      // Nothing left in the ledger once the message is parked and committed.
      await vi.waitFor(async () => expect(await new LocalStorage(ledgerDir).list("bus/")).toEqual([]), {
        timeout: 10_000,
      });
    } finally {
      await fs.rm(ledgerDir, { recursive: true, force: true });
    }
  }, 120_000);

  it("stops a running handler whose partition a rebalance gave to another member, and does not commit it", async () => {
    const { prefix, make } = harness({ partitions: 1 });
    const frozen = consumerProcess({
      prefix,
      handler: `
        console.log("handling", p.videoId);
        await new Promise((resolve, reject) => {
          ctx.signal.addEventListener("abort", () => {
            console.log("aborted:", String(ctx.signal.reason));
            reject(ctx.signal.reason);
          });
          // Told to finish: only a handler still running would.
          process.once("SIGUSR2", () => { if (!ctx.signal.aborted) { console.log("finished"); resolve(); } });
        });`,
    });
    await vi.waitFor(() => expect(frozen.out).toContain("subscribed"), { timeout: 30_000 });
    await make().publish("video.uploaded", uploaded("revoked"));
    await vi.waitFor(() => expect(frozen.out).toContain("handling revoked"), { timeout: 20_000 });
    // A long pause (a stalled VM, a stop-the-world GC): the group gives its partition away.
    frozen.child.kill("SIGSTOP");
    const got: string[] = [];
    await make().subscribe("g", { "video.uploaded": async (p) => void got.push(p.videoId) });
    await vi.waitFor(() => expect(got).toEqual(["revoked"]), { timeout: 60_000 });
    frozen.child.kill("SIGCONT");
    // Back, it learns its partition is gone and stops the handler instead of finishing it.
    await vi.waitFor(() => expect(frozen.out).toMatch(/aborted:.*revoked/), { timeout: 30_000 });
    frozen.child.kill("SIGUSR2");
    await new Promise((r) => setTimeout(r, 1_000));
    expect(frozen.out).not.toContain("finished");
    expect(got).toEqual(["revoked"]);
  }, 150_000);
  it("runs a later phase only once no message of an earlier phase waits in the group, each phase on its own slots", async () => {
    const { make } = harness({ partitions: 1 });
    const bus = make();
    const started: string[] = [];
    const running = { playable: 0, ladder: 0, most: 0 };
    const work = (phase: "playable" | "ladder") => async (p: VideoUploaded) => {
      started.push(`${phase}:${p.videoId}`);
      running[phase]++;
      running.most = Math.max(running.most, running.playable);
      await new Promise((r) => setTimeout(r, 1_500));
      running[phase]--;
    };
    // The ladder is queued first: it still waits for every playable phase queued behind it.
    await bus.publish("video.transcode.ladder", uploaded("L"));
    for (const id of ["a", "b", "c"]) await bus.publish("video.uploaded", uploaded(id));
    await bus.subscribe(
      "g",
      { "video.uploaded": work("playable"), "video.transcode.ladder": work("ladder") },
      {
        concurrency: 2,
        schedule: {
          phases: ["video.uploaded", "video.transcode.ladder"],
          slots: { "video.uploaded": 1, "video.transcode.ladder": 1 },
        },
      },
    );
    await vi.waitFor(() => expect(started).toHaveLength(4), { timeout: 60_000, interval: 100 });
    // a, b and c start in turn (one playable slot); the ladder once c, the last waiting one, runs.
    expect(started).toEqual(["playable:a", "playable:b", "playable:c", "ladder:L"]);
    expect(running.most).toBe(1);
  }, 120_000);
  it("runs messages of one partition at once and commits in order: past one still running, nothing is committed", async () => {
    const { prefix, make } = harness({ partitions: 1 });
    const bus = make();
    const release = new Map<string, () => void>();
    const started: string[] = [];
    const finished: string[] = [];
    for (const id of ["slow", "b", "c"]) await bus.publish("video.uploaded", uploaded(id));
    await bus.subscribe(
      "g",
      {
        "video.uploaded": async (p) => {
          started.push(p.videoId);
          if (p.videoId === "slow") await new Promise<void>((r) => release.set("slow", r));
          finished.push(p.videoId);
        },
      },
      { concurrency: 3 },
    );
    // All three run together although they share the partition; the two quick ones finish.
    await vi.waitFor(() => expect(finished.sort()).toEqual(["b", "c"]), { timeout: 30_000 });
    expect(started.sort()).toEqual(["b", "c", "slow"]);
    const committed = async () => {
      const admin = new Admin({ clientId: "offsets-reader", bootstrapBrokers: kafkaBrokers });
      try {
        const [group] = await admin.listConsumerGroupOffsets({
          groups: [{ groupId: `${prefix}g`, topics: [{ name: `${prefix}video.uploaded`, partitionIndexes: [0] }] }],
        });
        return group?.topics[0]?.partitions[0]?.committedOffset ?? -1n;
      } finally {
        await admin.close();
      }
    };
    // The first message still runs: committing b or c would skip it after a crash.
    await sleep(1_000);
    expect(await committed()).toBeLessThanOrEqual(0n);
    release.get("slow")?.();
    await vi.waitFor(async () => expect(await committed()).toBe(3n), { timeout: 30_000, interval: 200 });
  }, 90_000);
  it("picks fairly among the messages it read ahead: another owner's message behind a burst starts in the reserved slot", async () => {
    const { make } = harness({ partitions: 1 });
    const bus = make();
    const owned = (videoId: string, ownerId: string): VideoUploaded => ({ ...uploaded(videoId), ownerId });
    // One partition: Kafka hands out a1…a4 before b1, in that order.
    for (const id of ["a1", "a2", "a3", "a4"]) await bus.publish("video.uploaded", owned(id, "alice"));
    await bus.publish("video.uploaded", owned("b1", "bob"));
    const started: string[] = [];
    const release: (() => void)[] = [];
    await bus.subscribe(
      "g",
      {
        "video.uploaded": async (p) => {
          started.push(p.videoId);
          await new Promise<void>((r) => release.push(r));
        },
      },
      {
        concurrency: 3,
        schedule: { phases: ["video.uploaded"], slots: { "video.uploaded": 3 }, reserve: { "video.uploaded": 1 } },
      },
    );
    // Three slots, the last kept for an owner with nothing running: alice gets two, bob the third.
    await vi.waitFor(() => expect(started).toHaveLength(3), { timeout: 30_000, interval: 50 });
    await sleep(500);
    expect(started).toEqual(["a1", "a2", "b1"]);
    for (const r of release.splice(0)) r();
    await vi.waitFor(() => expect(started).toEqual(["a1", "a2", "b1", "a3", "a4"]), { timeout: 30_000 });
    for (const r of release.splice(0)) r();
  }, 90_000);
});

describeWith("kafka", kafkaMissing, "KafkaBus across a broker restart (a broker of its own)", () => {
  let dir: string;
  let broker: PrivateKafka;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "reelkit-kafka-restart-"));
    broker = await startPrivateKafka(dir);
  }, 200_000);
  afterAll(async () => {
    await broker?.stop().catch(() => {});
    await fs.rm(dir, { recursive: true, force: true });
  });

  const progress = (videoId: string) => ({ videoId, attempt: 1, percent: 50, stage: "encoding" as const });

  it("does not count a delivery whose handler could not publish while the broker was down, and runs it again once it is back", async () => {
    const prefix = `restart${Date.now()}.`;
    const bus = new KafkaBus({
      brokers: broker.brokers,
      prefix,
      partitions: 1,
      backoffMs: 50,
      maxAttempts: 2,
      publishPatienceMs: 1_000,
      sessionTimeoutMs: 6_000,
    });
    open.push(bus);
    const runs: { delivery: number; outcome: string }[] = [];
    const parked: string[] = [];
    let entered = (): void => {};
    const inHandler = new Promise<void>((resolve) => {
      entered = resolve;
    });
    let stopped = (): void => {};
    const brokerDown = new Promise<void>((resolve) => {
      stopped = resolve;
    });
    await bus.subscribe(
      "g",
      {
        "video.uploaded": async (p, ctx) => {
          entered();
          await brokerDown;
          try {
            // What a transcoder does mid-job: tell the catalog something.
            await bus.publish("video.transcode.progress", progress(p.videoId));
            runs.push({ delivery: ctx.deliveryAttempt, outcome: "published" });
          } catch (err) {
            runs.push({ delivery: ctx.deliveryAttempt, outcome: (err as Error).name });
            throw err;
          }
        },
      },
      { onParked: async (_m, error) => void parked.push(error) },
    );
    await bus.publish("video.uploaded", uploaded("through-a-restart"));
    await inHandler;
    await broker.stop();
    stopped();
    await vi.waitFor(() => expect(runs.length).toBeGreaterThan(0), { timeout: 30_000 });
    expect(runs[0]?.outcome).toBe("BusUnavailableError");
    // Down for a while: two counted failures 50 ms apart would have parked it long since.
    await sleep(8_000);
    expect(parked).toEqual([]);
    await broker.start();
    await vi.waitFor(() => expect(runs.at(-1)?.outcome).toBe("published"), { timeout: 90_000 });
    expect(parked).toEqual([]);
    // Every delivery was the first as far as parking goes: the broker's absence counted none.
    expect(new Set(runs.map((r) => r.delivery))).toEqual(new Set([1]));
    expect(await deadLetters(prefix, broker.brokers)).toEqual([]);
  }, 240_000);

  it("fails a publish with BusUnavailableError after its patience while the broker is down, and not a refused one", async () => {
    const bus = new KafkaBus({ brokers: broker.brokers, prefix: `patience${Date.now()}.`, publishPatienceMs: 2_000 });
    open.push(bus);
    await bus.publish("video.transcode.progress", progress("before"));
    await broker.stop();
    try {
      const started = Date.now();
      const err = await bus.publish("video.transcode.progress", progress("during")).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BusUnavailableError);
      expect(Date.now() - started).toBeGreaterThanOrEqual(2_000);
    } finally {
      await broker.start();
    }
    // Back: the same bus publishes again.
    await bus.publish("video.transcode.progress", progress("after"));
  }, 240_000);
});

describe("transientKafkaError", () => {
  it("tells a broker that is away from a refusal", async () => {
    const { MultipleErrors, NetworkError, ResponseError, ProtocolError } = await import("@platformatic/kafka");
    const refused = new NetworkError("Connection to 127.0.0.1:1 failed.");
    expect(transientKafkaError(new MultipleErrors("Producing messages failed.", [refused]))).toBe(true);
    const notLeader = new ResponseError(0, 11, { "/topics/0": [6, null] }, {});
    expect(transientKafkaError(notLeader)).toBe(true);
    const tooLarge = new ResponseError(0, 11, { "/topics/0": [10, null] }, {});
    expect(transientKafkaError(new MultipleErrors("Producing messages failed.", [tooLarge]))).toBe(false);
    // One refusal among transient causes is a refusal.
    expect(transientKafkaError(new MultipleErrors("x", [refused, tooLarge]))).toBe(false);
    expect(transientKafkaError(new ProtocolError("NOT_LEADER_OR_FOLLOWER"))).toBe(true);
    expect(transientKafkaError(new Error("ECONNREFUSED"))).toBe(false);
  });
});
