import type { JobStore, QueueBus, VideoUploaded } from "@reelkit/core";
import { afterEach, describe, expect, it, vi } from "vitest";
import { busContractSuite } from "./bus-contract-suite.js";

/**
 * QueueBus on every JobStore (memory, embedded and external PostgreSQL): the bus contract every
 * backend keeps, then what only the queue does (leases, claims).
 * `setup()` returns a store on a fresh backend and a factory of buses on it (each bus is one
 * "process": its own lease owner); `steal` moves a lease to another owner (what an expired
 * lease taken by another process looks like to the first one); `parked` lists the errors of the
 * parked jobs of a key.
 */
export interface QueueBusHarness {
  store: JobStore;
  bus(options?: { leaseMs?: number; maxAttempts?: number; backoffMs?: number }): QueueBus;
  steal(jobKey: string): Promise<void>;
  parked(jobKey: string): Promise<string[]>;
}

export function queueBusSuite(setup: () => Promise<QueueBusHarness>): void {
  describe("the bus contract", () => {
    busContractSuite(async () => {
      const h = await setup();
      return { bus: (o) => h.bus(o), parked: (k) => h.parked(k), patienceMs: 10_000 };
    });
  });
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
    await vi.waitFor(async () => expect(await h.parked(id)).toEqual(["no outcome after 2 deliveries"]));
    expect(ran).toBe(false);
  });

  it("runs several handlers of a group at once, up to `concurrency`", async () => {
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

  it("hands jobs out by phase, then fairly between owners (schedule)", async () => {
    const h = await harness();
    const publisher = h.bus();
    const tag = key();
    const job = (owner: string, i: number) => ({ ...uploaded(`${tag}-${owner}-${i}`), ownerId: `${tag}-${owner}` });
    // The burst and a ladder phase are queued before the other owner's single upload.
    for (let i = 1; i <= 3; i++) await publisher.publish("video.uploaded", job("alice", i));
    await publisher.publish("video.transcode.ladder", job("carol", 1));
    await publisher.publish("video.uploaded", job("bob", 1));
    const order: string[] = [];
    await h.bus().subscribe(
      "scheduled",
      {
        // Jobs other tests left behind may come too: only this test's count.
        "video.uploaded": async (p) => {
          if (p.videoId.startsWith(tag)) order.push(p.videoId.slice(tag.length + 1));
        },
        "video.transcode.ladder": async (p) => {
          if (p.videoId.startsWith(tag)) order.push(`ladder ${p.videoId.slice(tag.length + 1)}`);
        },
      },
      { concurrency: 1, schedule: { phases: ["video.uploaded", "video.transcode.ladder"] } },
    );
    await vi.waitFor(() => expect(order).toHaveLength(5), { timeout: 15_000, interval: 20 });
    expect(order).toEqual(["bob-1", "alice-1", "alice-2", "alice-3", "ladder carol-1"]);
  });

  it("refuses a second handler for a topic", async () => {
    const h = await harness();
    const bus = h.bus();
    await bus.subscribe("a", { "video.uploaded": async () => {} });
    await expect(bus.subscribe("b", { "video.uploaded": async () => {} })).rejects.toThrow(/already has a handler/);
  });
}
