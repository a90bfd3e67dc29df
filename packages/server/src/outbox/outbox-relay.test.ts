import { randomUUID } from "node:crypto";
import { type Bus, InProcessBus, type VideoUploaded } from "@reelkit/core";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { CatalogService } from "../catalog/catalog-service.js";
import { OutboxRepository } from "../catalog/outbox.js";
import { createTestDatabase, type TestDatabase } from "../db/test-databases.js";
import { OutboxRelay } from "./outbox-relay.js";

let tdb: TestDatabase;
let catalog: CatalogService;
let outbox: OutboxRepository;

beforeAll(async () => {
  tdb = await createTestDatabase("embedded");
  catalog = new CatalogService(tdb.db.prisma);
  outbox = new OutboxRepository(tdb.db.prisma);
}, 60_000);
afterAll(async () => {
  await tdb?.dispose();
});

async function finishedUpload(): Promise<string> {
  const videoId = randomUUID();
  await catalog.createForUpload({ videoId, uploadId: videoId, title: "t", description: "", filename: null });
  await catalog.finishUpload(videoId, { sourceKey: `videos/${videoId}/source`, sourceSize: 1 });
  return videoId;
}

describe("OutboxRelay", () => {
  it("keeps rows pending while the bus fails and redelivers them from a new relay (restart)", async () => {
    const id = await finishedUpload();
    const failing: Bus = {
      publish: async () => {
        throw new Error("broker down");
      },
      subscribe: async () => {},
      close: async () => {},
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

    // A fresh relay, as after a restart, publishes what the first one could not.
    const bus = new InProcessBus();
    const got: VideoUploaded[] = [];
    await bus.subscribe("t", {
      "video.uploaded": async (e) => {
        got.push(e);
      },
    });
    const second = new OutboxRelay({ outbox, bus, intervalMs: 20 });
    second.start();
    await vi.waitFor(() => expect(got.map((e) => e.videoId)).toContain(id));
    await second.stop();
    expect(got.filter((e) => e.videoId === id)).toHaveLength(1);
    expect((await outbox.pending(100)).map((r) => r.key)).not.toContain(id);
  });

  it("publishes many rows concurrently, each exactly once", async () => {
    const ids = await Promise.all(Array.from({ length: 10 }, () => finishedUpload()));
    const bus = new InProcessBus();
    const got: string[] = [];
    let active = 0;
    let peak = 0;
    await bus.subscribe("t", {
      "video.uploaded": async (e) => {
        active++;
        peak = Math.max(peak, active);
        await new Promise((r) => setTimeout(r, 30));
        active--;
        got.push(e.videoId);
      },
    });
    const relay = new OutboxRelay({ outbox, bus, intervalMs: 10, concurrency: 3 });
    relay.start();
    await vi.waitFor(() => expect(got).toEqual(expect.arrayContaining(ids)), { timeout: 5000 });
    await relay.stop();
    for (const id of ids) expect(got.filter((g) => g === id)).toHaveLength(1);
    expect(peak).toBeGreaterThan(1);
    expect(peak).toBeLessThanOrEqual(3);
  });
});
