import { KafkaBus } from "@reelkit/core/kafka";
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import { describeWith, kafkaBrokers, kafkaMissing } from "../../../../test/engines.js";
import { makeQueuedVideo, makeUser } from "../../test/factories.js";
import { createTestDatabase, postgresMissing, type TestDatabase } from "../db/test-databases.js";
import { type ServerWork, startServerWork } from "../server-work.js";
import { createCatalog } from "./catalog.js";
import { OutboxRepository } from "./outbox.js";

// Kafka cannot say whether a message still waits or runs somewhere, so in Kafka mode the sweep
// goes by time: a QUEUED/PROCESSING video with no event for REELKIT_STALE_JOB_AFTER is queued
// again (a new attempt, published through the outbox), one with recent news is left alone.

const missing = kafkaMissing ?? postgresMissing;

describeWith(kafkaMissing ? "kafka" : "postgres", missing, "orphan sweep in Kafka mode", () => {
  let tdb: TestDatabase;
  const buses: KafkaBus[] = [];
  let work: ServerWork | null = null;

  beforeAll(async () => {
    tdb = await createTestDatabase("postgres");
  }, 60_000);
  afterAll(async () => {
    await work?.stop();
    await Promise.all(buses.map((b) => b.close()));
    await tdb?.dispose();
  });

  it("queues again a video whose work nobody owned for the stale period, and leaves recent ones", async () => {
    const prisma = tdb.db.prisma;
    const catalog = createCatalog(prisma);
    const outbox = new OutboxRepository(prisma);
    const { id: ownerId } = await makeUser(prisma);
    const lost = await makeQueuedVideo(catalog, { title: "Its message was lost", ownerId });
    const busy = await makeQueuedVideo(catalog, { title: "Still being worked on", ownerId });
    // Both events were published; one video then heard nothing for 20 minutes (a transcoder's
    // commit went through without its outcome, a topic was deleted …), the other is in progress.
    await prisma.outbox.updateMany({ data: { publishedAt: new Date() } });
    await prisma.video.update({ where: { id: busy }, data: { status: "PROCESSING", progress: 40 } });
    await prisma.$executeRaw`UPDATE video SET updated_at = now() - interval '20 minutes' WHERE id = ${lost}::uuid`;

    const prefix = `sweep${Date.now()}.`;
    const make = () => {
      const bus = new KafkaBus({ brokers: kafkaBrokers, prefix, partitions: 1 });
      buses.push(bus);
      return bus;
    };
    const transcoder = make();
    const seen: { videoId: string; attempt: number }[] = [];
    await transcoder.subscribe("reelkit-transcoder", {
      "video.uploaded": async (e) => void seen.push({ videoId: e.videoId, attempt: e.attempt }),
    });
    work = await startServerWork({
      config: { staleJobSeconds: 15 * 60 },
      catalog,
      outbox,
      bus: make(),
      busOwns: null,
      relayIntervalMs: 100,
    });
    // The sweep at start queued the lost one again; the relay published its new attempt.
    await vi.waitFor(() => expect(seen).toEqual([{ videoId: lost, attempt: 2 }]), { timeout: 30_000 });
    const rows = await prisma.video.findMany({ where: { id: { in: [lost, busy] } }, orderBy: { title: "asc" } });
    expect(rows.map((v) => [v.id, v.status, v.attempt])).toEqual([
      [lost, "QUEUED", 2],
      [busy, "PROCESSING", 1],
    ]);
    // Once queued again it is recent: the next sweep leaves both alone.
    expect(await work.sweep()).toEqual([]);
  }, 90_000);
});
