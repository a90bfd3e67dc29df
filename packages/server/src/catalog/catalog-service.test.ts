import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { describeWith } from "../../../../test/engines.js";
import { makeUser, playableEvent, readyEvent } from "../../test/factories.js";
import { createTestDatabase, postgresMissing, type TestDatabase, type TestEngine } from "../db/test-databases.js";
import type { Video } from "../generated/prisma/client.js";
import { CatalogService, InvalidCursorError } from "./catalog-service.js";
import { OutboxRepository } from "./outbox.js";

function suite(engine: TestEngine) {
  let t: TestDatabase;
  let catalog: CatalogService;
  let outbox: OutboxRepository;

  beforeAll(async () => {
    t = await createTestDatabase(engine);
    await makeUser(t.db.prisma, { id: "user-1" });
  }, 60_000);
  afterAll(async () => {
    await t?.dispose();
  });
  beforeEach(async () => {
    await t.db.prisma.outbox.deleteMany();
    await t.db.prisma.video.deleteMany();
    catalog = new CatalogService(t.db.prisma);
    outbox = new OutboxRepository(t.db.prisma);
  });

  async function makeVideo(overrides: { title?: string; description?: string; ownerId?: string } = {}) {
    const videoId = randomUUID();
    return catalog.createForUpload({
      videoId,
      uploadId: `up-${videoId}`,
      title: overrides.title ?? "A video",
      description: overrides.description ?? "",
      filename: "clip.mp4",
      ownerId: overrides.ownerId ?? "user-1",
    });
  }

  async function makeReady(overrides: { title?: string; description?: string } = {}): Promise<Video> {
    const v = await makeVideo(overrides);
    const finished = await catalog.finishUpload(v.id, { sourceKey: `videos/${v.id}/source`, sourceSize: 1234 });
    const ready = await catalog.applyReady(readyEvent(v.id, finished?.video.attempt ?? 0));
    if (!ready) throw new Error("not ready");
    return ready;
  }

  it("createForUpload makes an UPLOADING row and is idempotent", async () => {
    const v = await makeVideo({ title: "First" });
    expect(v.status).toBe("UPLOADING");
    expect(v.attempt).toBe(0);
    expect(v.ownerId).toBe("user-1");
    const again = await catalog.createForUpload({
      videoId: v.id,
      uploadId: v.uploadId ?? "",
      title: "Other",
      description: "",
      filename: null,
    });
    expect(again.title).toBe("First");
    expect(await t.db.prisma.video.count()).toBe(1);
  });

  it("finishUpload queues the video and writes one outbox row, once", async () => {
    const v = await makeVideo();
    const res = await catalog.finishUpload(v.id, { sourceKey: `videos/${v.id}/source`, sourceSize: 4096 });
    expect(res?.queued).toBe(true);
    expect(res?.video.status).toBe("QUEUED");
    expect(res?.video.attempt).toBe(1);
    expect(res?.video.sourceSize).toBe(4096n);
    const again = await catalog.finishUpload(v.id, { sourceKey: `videos/${v.id}/source`, sourceSize: 4096 });
    expect(again?.queued).toBe(false);
    expect(again?.video.attempt).toBe(1);
    const rows = await outbox.pending(10);
    expect(rows).toHaveLength(1);
    expect(rows[0]?.topic).toBe("video.uploaded");
    expect(rows[0]?.key).toBe(v.id);
    expect(rows[0]?.payload).toEqual({ videoId: v.id, attempt: 1, sourceKey: `videos/${v.id}/source` });
    expect(await catalog.finishUpload(randomUUID(), { sourceKey: "x", sourceSize: 1 })).toBeNull();
    expect(await catalog.finishUpload("nope", { sourceKey: "x", sourceSize: 1 })).toBeNull();
  });

  it("outbox: markFailed keeps a row pending with its error, markPublished removes it", async () => {
    const v = await makeVideo();
    await catalog.finishUpload(v.id, { sourceKey: "k", sourceSize: 1 });
    const [row] = await outbox.pending(10);
    if (!row) throw new Error("no outbox row");
    await outbox.markFailed(row.id, "broker down");
    const [failed] = await outbox.pending(10);
    expect(failed?.attempts).toBe(1);
    expect(failed?.lastError).toBe("broker down");
    await outbox.markPublished(row.id);
    expect(await outbox.pending(10)).toEqual([]);
    const stored = await t.db.prisma.outbox.findUnique({ where: { id: row.id } });
    expect(stored?.publishedAt).toBeInstanceOf(Date);
  });

  it("get returns null for a non-uuid or unknown id", async () => {
    const v = await makeVideo();
    expect((await catalog.get(v.id))?.id).toBe(v.id);
    expect(await catalog.get("not-a-uuid")).toBeNull();
    expect(await catalog.get(randomUUID())).toBeNull();
  });

  it("progress, ready and failed ignore stale attempts and never move backwards", async () => {
    const changes: string[] = [];
    const off = catalog.onChange((v) => changes.push(`${v.status}:${v.progress}`));
    const v = await makeVideo();
    await catalog.finishUpload(v.id, { sourceKey: "k", sourceSize: 1 });
    expect(await catalog.applyProgress({ videoId: v.id, attempt: 0, percent: 50, stage: "encoding" })).toBeNull();
    const p = await catalog.applyProgress({ videoId: v.id, attempt: 1, percent: 40, stage: "encoding" });
    expect(p?.status).toBe("PROCESSING");
    expect(p?.progress).toBe(40);
    // An out-of-order older progress report does not lower the percent.
    expect(await catalog.applyProgress({ videoId: v.id, attempt: 1, percent: 20, stage: "encoding" })).toBeNull();
    expect(await catalog.applyReady(readyEvent(v.id, 2))).toBeNull();
    const ready = await catalog.applyReady(readyEvent(v.id, 1));
    expect(ready?.status).toBe("READY");
    expect(ready?.progress).toBe(100);
    expect(ready?.publishedAt).toBeInstanceOf(Date);
    expect(ready?.renditions).toEqual(readyEvent(v.id, 1).renditions);
    expect(ready?.masterKey).toBe(`videos/${v.id}/hls/master.m3u8`);
    // READY is final: late progress, a duplicate ready and a failure are all ignored.
    expect(await catalog.applyProgress({ videoId: v.id, attempt: 1, percent: 90, stage: "finalizing" })).toBeNull();
    expect(await catalog.applyReady(readyEvent(v.id, 1))).toBeNull();
    expect(
      await catalog.applyFailed({ videoId: v.id, attempt: 1, code: "TRANSCODE_ERROR", reason: "boom" }),
    ).toBeNull();
    expect((await catalog.get(v.id))?.status).toBe("READY");
    off();
    await catalog.applyProgress({ videoId: v.id, attempt: 1, percent: 100, stage: "finalizing" });
    expect(changes).toEqual(["UPLOADING:0", "QUEUED:0", "PROCESSING:40", "READY:100"]);
  });

  it("playable sets the master and nominal renditions while PROCESSING; ready then measures them", async () => {
    const v = await makeVideo();
    await catalog.finishUpload(v.id, { sourceKey: "k", sourceSize: 1 });
    expect(await catalog.applyPlayable(playableEvent(v.id, 2))).toBeNull();
    const playable = await catalog.applyPlayable(playableEvent(v.id, 1));
    expect(playable).toMatchObject({ status: "PROCESSING", masterKey: `videos/${v.id}/hls/master.m3u8`, duration: 3 });
    expect(playable?.renditions).toEqual(playableEvent(v.id, 1).renditions);
    expect(playable?.publishedAt).toBeNull();
    // Progress goes on, and keeps the master.
    const later = await catalog.applyProgress({ videoId: v.id, attempt: 1, percent: 60, stage: "encoding" });
    expect(later).toMatchObject({ status: "PROCESSING", progress: 60, masterKey: playable?.masterKey });
    const ready = await catalog.applyReady(readyEvent(v.id, 1));
    expect(ready?.renditions).toEqual(readyEvent(v.id, 1).renditions);
    // A late (redelivered) playable event cannot take a READY video back to PROCESSING.
    expect(await catalog.applyPlayable(playableEvent(v.id, 1))).toBeNull();
    expect((await catalog.get(v.id))?.status).toBe("READY");
  });

  it("applyFailed records the reason and FAILED stays final", async () => {
    const v = await makeVideo();
    await catalog.finishUpload(v.id, { sourceKey: "k", sourceSize: 1 });
    const failed = await catalog.applyFailed({
      videoId: v.id,
      attempt: 1,
      code: "UNDECODABLE",
      reason: "The file is not a video.",
    });
    expect(failed?.status).toBe("FAILED");
    expect(failed?.failureReason).toBe("The file is not a video.");
    expect(await catalog.applyReady(readyEvent(v.id, 1))).toBeNull();
    expect(await catalog.applyProgress({ videoId: v.id, attempt: 1, percent: 99, stage: "encoding" })).toBeNull();
    expect((await catalog.get(v.id))?.status).toBe("FAILED");
  });

  it("list pages READY videos newest first with an opaque cursor, and oldest first on request", async () => {
    const ready: Video[] = [];
    for (let i = 0; i < 5; i++) ready.push(await makeReady({ title: `Video ${i}` }));
    await makeVideo({ title: "still uploading" });
    const expected = [...ready]
      .sort((a, b) => (b.publishedAt?.getTime() ?? 0) - (a.publishedAt?.getTime() ?? 0) || (a.id < b.id ? 1 : -1))
      .map((v) => v.id);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await catalog.list({ limit: 2, cursor });
      seen.push(...page.items.map((v) => v.id));
      cursor = page.nextCursor;
      pages++;
      if (cursor) expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual(expected);
    const oldest = await catalog.list({ limit: 10, sort: "oldest" });
    expect(oldest.items.map((v) => v.id)).toEqual([...expected].reverse());
    expect(oldest.nextCursor).toBeNull();
    await expect(catalog.list({ limit: 2, cursor: "garbage!" })).rejects.toBeInstanceOf(InvalidCursorError);
  });

  it("search ranks full-text matches, tolerates a misspelling and skips non-READY videos", async () => {
    const kitten = await makeReady({ title: "Funny kitten compilation", description: "cats doing things" });
    const surf = await makeReady({ title: "Surfing in Portugal", description: "big waves and a kitten cameo" });
    await makeReady({ title: "Cooking pasta", description: "italian dinner" });
    await makeVideo({ title: "Kitten upload in progress" });

    const exact = await catalog.search({ q: "kitten", limit: 10 });
    expect(exact.items.map((v) => v.id)).toEqual([kitten.id, surf.id]);

    const misspelt = await catalog.search({ q: "kiten", limit: 10 });
    expect(misspelt.items.map((v) => v.id)).toContain(kitten.id);
    expect(misspelt.items.map((v) => v.title)).not.toContain("Cooking pasta");

    const desc = await catalog.search({ q: "waves", limit: 10 });
    expect(desc.items.map((v) => v.id)).toEqual([surf.id]);

    const paged = await catalog.search({ q: "kitten", limit: 1 });
    expect(paged.items.map((v) => v.id)).toEqual([kitten.id]);
    const next = await catalog.search({ q: "kitten", limit: 1, cursor: paged.nextCursor });
    expect(next.items.map((v) => v.id)).toEqual([surf.id]);
    expect(next.nextCursor).toBeNull();

    expect((await catalog.search({ q: "zzzzqqq", limit: 10 })).items).toEqual([]);
    expect((await catalog.search({ q: "  ", limit: 10 })).items).toEqual([]);
  });

  it("update changes title/description; delete returns the row once", async () => {
    const v = await makeVideo({ title: "Old" });
    const u = await catalog.update(v.id, { title: "New" });
    expect(u?.title).toBe("New");
    expect(u?.description).toBe("");
    expect(await catalog.update(randomUUID(), { title: "x" })).toBeNull();
    expect(await catalog.update("bad", { title: "x" })).toBeNull();
    const d = await catalog.delete(v.id);
    expect(d?.id).toBe(v.id);
    expect(await catalog.delete(v.id)).toBeNull();
    expect(await catalog.get(v.id)).toBeNull();
  });
}

describe("CatalogService (embedded PostgreSQL)", () => suite("embedded"));
describeWith("postgres", postgresMissing, "CatalogService (PostgreSQL)", () => suite("postgres"));
