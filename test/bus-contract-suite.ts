import type { Bus, VideoUploaded } from "@reelkit/core";
import { afterEach, expect, it, vi } from "vitest";

/**
 * The delivery model every Bus promises (packages/core/src/bus/bus.ts), run against each
 * backend: the job queue on every JobStore (memory, embedded and external PostgreSQL) and Kafka.
 * `setup()` returns a fresh backend for one test (its own store, topics or groups: tests never
 * see each other's messages) and a factory of buses on it, each bus one "process".
 */
export interface BusContractHarness {
  bus(options?: { maxAttempts?: number; backoffMs?: number }): Bus;
  /** The errors of the parked (dead-lettered) messages with this key, one per park. */
  parked(key: string): Promise<string[]>;
  /** How long a test waits for the bus to act (a Kafka group join takes seconds). */
  patienceMs: number;
}

export function busContractSuite(setup: () => Promise<BusContractHarness>): void {
  const open: Bus[] = [];
  let n = 0;
  const key = () => `c-${Date.now()}-${++n}`;
  const uploaded = (videoId: string): VideoUploaded => ({ videoId, attempt: 1, sourceKey: `videos/${videoId}/source` });
  const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
  async function harness() {
    const h = await setup();
    const waitFor = <T>(check: () => T | Promise<T>) => vi.waitFor(check, { timeout: h.patienceMs, interval: 50 });
    return {
      ...h,
      waitFor,
      bus: (o?: Parameters<BusContractHarness["bus"]>[0]) => {
        const b = h.bus(o);
        open.push(b);
        return b;
      },
    };
  }
  afterEach(async () => {
    await Promise.all(open.splice(0).map((b) => b.close()));
  });

  it("resolves publish once the message is accepted, before any consumer handled it", async () => {
    const h = await harness();
    const bus = h.bus();
    const id = key();
    let release!: () => void;
    const started: string[] = [];
    const handled: string[] = [];
    await bus.subscribe("g", {
      "video.uploaded": async (p) => {
        if (p.videoId !== id) return;
        started.push(p.videoId);
        await new Promise<void>((r) => {
          release = r;
        });
        handled.push(p.videoId);
      },
    });
    await bus.publish("video.uploaded", uploaded(id));
    expect(handled).toEqual([]);
    await h.waitFor(() => expect(started).toEqual([id]));
    release();
    await h.waitFor(() => expect(handled).toEqual([id]));
  });

  it("rejects a payload that does not match its schema at publish", async () => {
    const h = await harness();
    await expect(
      h.bus().publish("video.uploaded", { videoId: "x", attempt: -1 } as unknown as VideoUploaded),
    ).rejects.toThrow(/invalid video.uploaded message/);
  });

  it("acknowledges only after the handler succeeded: a failure is delivered again after the backoff, then no more", async () => {
    const h = await harness();
    const bus = h.bus({ backoffMs: 50 });
    const id = key();
    const deliveries: { attempt: number; at: number }[] = [];
    await bus.subscribe("g", {
      "video.uploaded": async (p, ctx) => {
        if (p.videoId !== id) return;
        deliveries.push({ attempt: ctx.deliveryAttempt, at: Date.now() });
        if (deliveries.length === 1) throw new Error("disk full");
      },
    });
    await bus.publish("video.uploaded", uploaded(id));
    await h.waitFor(() => expect(deliveries.map((d) => d.attempt)).toEqual([1, 2]));
    expect((deliveries[1]?.at ?? 0) - (deliveries[0]?.at ?? 0)).toBeGreaterThanOrEqual(45);
    await pause(500);
    expect(deliveries.map((d) => d.attempt)).toEqual([1, 2]);
    expect(await h.parked(id)).toEqual([]);
  });

  it("parks a message after its last failed attempt, reports it once with the error, and moves on to its key's next message", async () => {
    const h = await harness();
    const bus = h.bus({ maxAttempts: 3, backoffMs: 20 });
    const poison = key();
    const next = key();
    const tries: string[] = [];
    const reports: { key: string; videoId: string; error: string }[] = [];
    await bus.subscribe(
      "g",
      {
        "video.uploaded": async (p) => {
          if (p.videoId !== poison && p.videoId !== next) return;
          tries.push(p.videoId);
          if (p.videoId === poison) throw new Error("poison");
        },
      },
      {
        onParked: async (m, error) => {
          if (m.topic === "video.uploaded") reports.push({ key: m.key, videoId: m.payload.videoId, error });
        },
      },
    );
    await bus.publish("video.uploaded", uploaded(poison), poison);
    await bus.publish("video.uploaded", uploaded(next), poison);
    await h.waitFor(() => expect(tries).toEqual([poison, poison, poison, next]));
    await h.waitFor(async () => expect(await h.parked(poison)).toEqual(["poison"]));
    await pause(300);
    expect(reports).toEqual([{ key: poison, videoId: poison, error: "poison" }]);
    expect(tries).toEqual([poison, poison, poison, next]);
    expect(await h.parked(poison)).toEqual(["poison"]);
  });

  it("parks nothing when the report fails: reports again with the same error, then parks once, the handler not run again", async () => {
    const h = await harness();
    const bus = h.bus({ maxAttempts: 2, backoffMs: 20 });
    const id = key();
    let runs = 0;
    const reports: string[] = [];
    await bus.subscribe(
      "g",
      {
        "video.uploaded": async (p) => {
          if (p.videoId !== id) return;
          runs++;
          throw new Error("poison");
        },
      },
      {
        onParked: async (_m, error) => {
          reports.push(error);
          if (reports.length === 1) throw new Error("the catalog is down");
        },
      },
    );
    await bus.publish("video.uploaded", uploaded(id));
    await h.waitFor(() => expect(reports).toEqual(["poison", "poison"]));
    await h.waitFor(async () => expect(await h.parked(id)).toEqual(["poison"]));
    await pause(300);
    expect(reports).toEqual(["poison", "poison"]);
    expect(runs).toBe(2);
    expect(await h.parked(id)).toEqual(["poison"]);
  });

  it("hands a running message back at once on stop: the next consumer gets it without an attempt counted", async () => {
    const h = await harness();
    const first = h.bus();
    const id = key();
    let started = false;
    let aborted = false;
    await first.subscribe("g", {
      "video.uploaded": (p, ctx) =>
        p.videoId !== id
          ? Promise.resolve()
          : new Promise((_resolve, reject) => {
              started = true;
              ctx.signal.addEventListener("abort", () => {
                aborted = true;
                reject(ctx.signal.reason);
              });
            }),
    });
    await first.publish("video.uploaded", uploaded(id));
    await h.waitFor(() => expect(started).toBe(true));
    const got: number[] = [];
    await h.bus().subscribe("g", {
      "video.uploaded": async (p, ctx) => {
        if (p.videoId === id) got.push(ctx.deliveryAttempt);
      },
    });
    const t0 = Date.now();
    await first.unsubscribe("g");
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(aborted).toBe(true);
    await h.waitFor(() => expect(got).toEqual([1]));
  });

  it("delivers the messages of one key in the order they were published", async () => {
    const h = await harness();
    const bus = h.bus();
    const videoKey = key();
    const ids = Array.from({ length: 6 }, (_, i) => `${videoKey}-${i}`);
    const seen: string[] = [];
    await bus.subscribe(
      "g",
      {
        "video.uploaded": async (p) => {
          if (!ids.includes(p.videoId)) return;
          await pause(10 + ((ids.indexOf(p.videoId) * 7) % 20));
          seen.push(p.videoId);
        },
      },
      { concurrency: 2 },
    );
    for (const id of ids) await bus.publish("video.uploaded", uploaded(id), videoKey);
    await h.waitFor(() => expect(seen).toEqual(ids));
  });

  it("runs at most `concurrency` handlers of a group at once, and each message once", async () => {
    const h = await harness();
    const bus = h.bus();
    const ids = Array.from({ length: 8 }, key);
    let active = 0;
    let peak = 0;
    const seen: string[] = [];
    await bus.subscribe(
      "g",
      {
        "video.uploaded": async (p) => {
          if (!ids.includes(p.videoId)) return;
          active++;
          peak = Math.max(peak, active);
          await pause(30);
          active--;
          seen.push(p.videoId);
        },
      },
      { concurrency: 3 },
    );
    for (const id of ids) await bus.publish("video.uploaded", uploaded(id));
    await h.waitFor(() => expect([...seen].sort()).toEqual([...ids].sort()));
    await pause(300);
    expect(seen).toHaveLength(ids.length);
    expect(peak).toBeLessThanOrEqual(3);
  });
}
