import type { JobStore, QueueBus, VideoUploaded } from "@reelkit/core";
import { afterEach, expect, it, vi } from "vitest";

/**
 * The delivery model of QueueBus, run against every JobStore (memory, embedded and external PostgreSQL).
 * `setup()` returns a store on a fresh backend and a factory of buses on it (each bus is one
 * "process": its own lease owner); `steal` moves a lease to another owner (what an expired
 * lease taken by another process looks like to the first one).
 */
export interface QueueBusHarness {
  store: JobStore;
  bus(options?: { leaseMs?: number; maxAttempts?: number; backoffMs?: number }): QueueBus;
  steal(jobKey: string): Promise<void>;
}

export function queueBusSuite(setup: () => Promise<QueueBusHarness>): void {
  const open: QueueBus[] = [];
  let n = 0;
  const key = () => `v-${Date.now()}-${++n}`;
  const uploaded = (videoId: string): VideoUploaded => ({ videoId, attempt: 1, sourceKey: `videos/${videoId}/source` });
  async function harness() {
    const h = await setup();
    return {
      ...h,
      bus: (o?: Parameters<QueueBusHarness["bus"]>[0]) => {
        const b = h.bus(o);
        open.push(b);
        return b;
      },
    };
  }
  afterEach(async () => {
    await Promise.all(open.splice(0).map((b) => b.close()));
  });

  it("resolves publish once the message is stored, before any consumer handled it", async () => {
    const h = await harness();
    const bus = h.bus();
    let release!: () => void;
    const handled: string[] = [];
    await bus.subscribe("g", {
      "video.uploaded": async (p) => {
        await new Promise<void>((r) => {
          release = r;
        });
        handled.push(p.videoId);
      },
    });
    const id = key();
    await bus.publish("video.uploaded", uploaded(id));
    expect(handled).toEqual([]);
    expect(await h.store.hasPending(id)).toBe(true);
    await vi.waitFor(() => expect(release).toBeTypeOf("function"));
    release();
    await vi.waitFor(async () => expect(await h.store.hasPending(id)).toBe(false));
    expect(handled).toEqual([id]);
  });

  it("rejects a payload that does not match its schema at publish", async () => {
    const h = await harness();
    const bus = h.bus();
    await expect(
      bus.publish("video.uploaded", { videoId: "x", attempt: -1 } as unknown as VideoUploaded),
    ).rejects.toThrow(/invalid video.uploaded message/);
  });

  it("acknowledges only after the handler succeeded: a failure is delivered again after the backoff", async () => {
    const h = await harness();
    const bus = h.bus({ backoffMs: 50 });
    const deliveries: number[] = [];
    await bus.subscribe("g", {
      "video.uploaded": async (_p, ctx) => {
        deliveries.push(ctx.deliveryAttempt);
        if (deliveries.length === 1) throw new Error("disk full");
      },
    });
    const id = key();
    await bus.publish("video.uploaded", uploaded(id));
    await vi.waitFor(async () => expect(await h.store.hasPending(id)).toBe(false), { timeout: 5000 });
    expect(deliveries).toEqual([1, 2]);
  });

  it("redelivers the job of a consumer that died (its lease ran out) to another one", async () => {
    const h = await harness();
    const id = key();
    const publisher = h.bus();
    await publisher.publish("video.uploaded", uploaded(id));
    // A consumer claims it and dies: no renewal, no ack, no hand-back.
    const [claimed] = await h.store.claim({ topics: ["video.uploaded"], limit: 1, owner: "dead", leaseMs: 300 });
    expect(claimed?.key).toBe(id);
    const got: { id: string; attempt: number }[] = [];
    await h.bus().subscribe("g", {
      "video.uploaded": async (p, ctx) => void got.push({ id: p.videoId, attempt: ctx.deliveryAttempt }),
    });
    await vi.waitFor(() => expect(got).toEqual([{ id, attempt: 2 }]), { timeout: 5000 });
  });

  it("aborts a handler whose lease was lost and never acknowledges for it", async () => {
    const h = await harness();
    const bus = h.bus({ leaseMs: 300 });
    const id = key();
    let aborted: unknown = null;
    let started = false;
    await bus.subscribe("g", {
      "video.uploaded": (_p, ctx) =>
        new Promise((_resolve, reject) => {
          started = true;
          ctx.signal.addEventListener("abort", () => {
            aborted = ctx.signal.reason;
            reject(ctx.signal.reason);
          });
        }),
    });
    await bus.publish("video.uploaded", uploaded(id));
    await vi.waitFor(() => expect(started).toBe(true));
    await h.steal(id);
    await vi.waitFor(() => expect(String(aborted)).toMatch(/lease was lost/), { timeout: 5000 });
    // The job belongs to the thief: still there, not acknowledged, not rescheduled by the loser.
    expect(await h.store.hasPending(id)).toBe(true);
  });

  it("parks a message after its last failed attempt, reports it once and never delivers it again", async () => {
    const h = await harness();
    const bus = h.bus({ maxAttempts: 3, backoffMs: 20 });
    const id = key();
    let deliveries = 0;
    const parked: { key: string; error: string }[] = [];
    await bus.subscribe(
      "g",
      {
        "video.uploaded": async () => {
          deliveries++;
          throw new Error("poison");
        },
      },
      { onParked: async (m, error) => void parked.push({ key: m.key, error }) },
    );
    await bus.publish("video.uploaded", uploaded(id));
    await vi.waitFor(
      async () => {
        expect(parked).toEqual([{ key: id, error: "poison" }]);
        // Reported first, then parked (a crash in between reports again, never loses it).
        expect(await h.store.hasPending(id)).toBe(false);
      },
      { timeout: 5000 },
    );
    await new Promise((r) => setTimeout(r, 200));
    expect(deliveries).toBe(3);
  });

  it("parks, without running it, a job whose consumers kept dying before any outcome", async () => {
    const h = await harness();
    const id = key();
    await h.bus().publish("video.uploaded", uploaded(id));
    for (let i = 0; i < 2; i++) {
      await h.store.claim({ topics: ["video.uploaded"], limit: 1, owner: `dead-${i}`, leaseMs: 1 });
      await new Promise((r) => setTimeout(r, 20));
    }
    let ran = false;
    const parked: string[] = [];
    await h.bus({ maxAttempts: 2 }).subscribe(
      "g",
      {
        "video.uploaded": async () => {
          ran = true;
        },
      },
      { onParked: async (m) => void parked.push(m.key) },
    );
    await vi.waitFor(() => expect(parked).toEqual([id]), { timeout: 5000 });
    expect(ran).toBe(false);
  });

  it("hands a running job back at once on stop; the next consumer gets it without an attempt counted", async () => {
    const h = await harness();
    const first = h.bus();
    const id = key();
    let started = false;
    await first.subscribe("g", {
      "video.uploaded": (_p, ctx) =>
        new Promise((_resolve, reject) => {
          started = true;
          ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason));
        }),
    });
    await first.publish("video.uploaded", uploaded(id));
    await vi.waitFor(() => expect(started).toBe(true));
    const t0 = Date.now();
    await first.unsubscribe("g");
    expect(Date.now() - t0).toBeLessThan(2000);
    const got: number[] = [];
    await h.bus().subscribe("g", { "video.uploaded": async (_p, ctx) => void got.push(ctx.deliveryAttempt) });
    await vi.waitFor(() => expect(got).toEqual([1]), { timeout: 5000 });
  });

  it("runs at most `concurrency` handlers of a group at once, and each message once", async () => {
    const h = await harness();
    const bus = h.bus();
    let active = 0;
    let peak = 0;
    const seen: string[] = [];
    await bus.subscribe(
      "g",
      {
        "video.uploaded": async (p) => {
          active++;
          peak = Math.max(peak, active);
          await new Promise((r) => setTimeout(r, 30));
          active--;
          seen.push(p.videoId);
        },
      },
      { concurrency: 3 },
    );
    const ids = Array.from({ length: 8 }, key);
    for (const id of ids) await bus.publish("video.uploaded", uploaded(id));
    await vi.waitFor(() => expect(seen.sort()).toEqual([...ids].sort()), { timeout: 10_000 });
    expect(peak).toBeGreaterThan(1);
    expect(peak).toBeLessThanOrEqual(3);
  });

  it("refuses a second handler for a topic", async () => {
    const h = await harness();
    const bus = h.bus();
    await bus.subscribe("a", { "video.uploaded": async () => {} });
    await expect(bus.subscribe("b", { "video.uploaded": async () => {} })).rejects.toThrow(/already has a handler/);
  });
}
