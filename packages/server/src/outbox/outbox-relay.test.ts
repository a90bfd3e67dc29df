import { randomUUID } from "node:crypto";
import type { Bus, VideoUploaded } from "@reelkit/core";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createQueueBus } from "../bus/create-bus.js";
import { type Catalog, createCatalog } from "../catalog/catalog.js";
import { OutboxRepository } from "../catalog/outbox.js";
import { createTestDatabase, type TestDatabase } from "../db/test-databases.js";
import { OutboxRelay } from "./outbox-relay.js";

let tdb: TestDatabase;
let catalog: Catalog;
let outbox: OutboxRepository;
const config = { jobMaxAttempts: 5, jobBackoffMs: 1000, jobLeaseMs: 30_000 };

beforeAll(async () => {
  tdb = await createTestDatabase("embedded");
  catalog = createCatalog(tdb.db.prisma);
  outbox = new OutboxRepository(tdb.db.prisma);
}, 60_000);
afterAll(async () => {
  await tdb?.dispose();
});

async function finishedUpload(): Promise<string> {
  const videoId = randomUUID();
  await catalog.uploads.createForUpload({ videoId, uploadId: videoId, title: "t", description: "", filename: null });
  await catalog.uploads.finishUpload(videoId, { sourceKey: `videos/${videoId}/source`, sourceSize: 1 });
  return videoId;
}

/** A bus that records what is published (accepts every message at once). */
function recordingBus(got: string[], delayMs = 0): Bus {
  return {
    publish: async (_topic, payload) => {
      await new Promise((r) => setTimeout(r, delayMs));
      got.push((payload as VideoUploaded).videoId);
    },
    subscribe: async () => {},
    unsubscribe: async () => {},
    ping: async () => {},
    close: async () => {},
  };
}

describe("OutboxRelay", () => {
  it("keeps rows pending while the bus fails and redelivers them from a new relay (restart)", async () => {
    const id = await finishedUpload();
    const failing: Bus = {
      ...recordingBus([]),
      publish: async () => {
        throw new Error("broker down");
      },
    };
    const first = new OutboxRelay({ outbox, bus: failing, intervalMs: 20 });
    first.start();
    await vi.waitFor(async () => {
      const rows = await tdb.db.prisma.outbox.findMany({ where: { key: id } });
      expect(rows[0]?.attempts).toBeGreaterThan(0);
      expect(rows[0]?.lastError).toBe("broker down");
    });
    await first.stop();
    expect((await outbox.pending(100)).map((r) => r.key)).toContain(id);

    // A fresh relay, as after a restart, publishes what the first one could not — to the job
    // queue, where a consumer receives it.
    const { bus } = await createQueueBus(config, tdb.db);
    const got: VideoUploaded[] = [];
    await bus.subscribe("t", {
      "video.uploaded": async (e) => {
        got.push(e);
      },
    });
    const second = new OutboxRelay({ outbox, bus, intervalMs: 20 });
    second.start();
    await vi.waitFor(() => expect(got.map((e) => e.videoId)).toContain(id), { timeout: 5000 });
    await second.stop();
    await bus.close();
    expect(got.filter((e) => e.videoId === id)).toHaveLength(1);
    expect((await outbox.pending(100)).map((r) => r.key)).not.toContain(id);
  });

  it("shares the outbox between relays of several instances without sending a row twice", async () => {
    const ids = await Promise.all(Array.from({ length: 12 }, () => finishedUpload()));
    const got: string[] = [];
    const relays = [0, 1, 2].map(
      () => new OutboxRelay({ outbox, bus: recordingBus(got, 15), intervalMs: 5, concurrency: 3 }),
    );
    for (const r of relays) r.start();
    await vi.waitFor(() => expect(got).toEqual(expect.arrayContaining(ids)), { timeout: 10_000 });
    await Promise.all(relays.map((r) => r.stop()));
    for (const id of ids) expect(got.filter((g) => g === id)).toHaveLength(1);
  });

  it("takes over the rows a crashed relay had claimed once its claim runs out", async () => {
    const id = await finishedUpload();
    // A relay claims the row and dies before publishing it.
    const claimed = await outbox.claim("dead-relay", 100, 200);
    expect(claimed.map((r) => r.key)).toContain(id);
    const got: string[] = [];
    const relay = new OutboxRelay({ outbox, bus: recordingBus(got), intervalMs: 20 });
    relay.start();
    await new Promise((r) => setTimeout(r, 100));
    expect(got).not.toContain(id);
    await vi.waitFor(() => expect(got).toContain(id), { timeout: 5000 });
    await relay.stop();
  });
});
