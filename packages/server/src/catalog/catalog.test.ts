import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { describeWith } from "../../../../test/engines.js";
import { makeUser, playableEvent, readyEvent } from "../../test/factories.js";
import { createTestDatabase, postgresMissing, type TestDatabase, type TestEngine } from "../db/test-databases.js";
import type { Video } from "../generated/prisma/client.js";
import { Prisma } from "../generated/prisma/client.js";
import { type Catalog, createCatalog, InvalidCursorError, type Page } from "./catalog.js";
import { SEARCH_CANDIDATES, suggestionsQuery } from "./catalog-query.js";
import { OutboxRepository } from "./outbox.js";
import type { TypeaheadAnswer } from "./typeahead.js";
import { VideoCache } from "./video-cache.js";
import { ViewCounter } from "./view-counter.js";

function suite(engine: TestEngine) {
  let t: TestDatabase;
  let catalog: Catalog;
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
    catalog = createCatalog(t.db.prisma);
    outbox = new OutboxRepository(t.db.prisma);
  });

  async function makeVideo(overrides: { title?: string; description?: string; ownerId?: string } = {}) {
    const videoId = randomUUID();
    return catalog.uploads.createForUpload({
      videoId,
      uploadId: `up-${videoId}`,
      title: overrides.title ?? "A video",
      description: overrides.description ?? "",
      filename: "clip.mp4",
      ownerId: overrides.ownerId ?? "user-1",
    });
  }

  interface ReadyOverrides {
    title?: string;
    description?: string;
    ownerId?: string;
    duration?: number;
    height?: number;
    publishedAt?: Date;
    viewCount?: number;
    tags?: string[];
  }

  async function makeReady(overrides: ReadyOverrides = {}): Promise<Video> {
    const v = await makeVideo(overrides);
    const finished = await catalog.uploads.finishUpload(v.id, { sourceKey: `videos/${v.id}/source`, sourceSize: 1234 });
    const event = readyEvent(v.id, finished?.video.attempt ?? 0);
    if (overrides.duration !== undefined) event.durationSec = overrides.duration;
    if (overrides.height !== undefined) event.height = overrides.height;
    const ready = await catalog.transcodes.applyReady(event);
    if (!ready) throw new Error("not ready");
    if (overrides.publishedAt || overrides.viewCount !== undefined || overrides.tags) {
      return t.db.prisma.video.update({
        where: { id: v.id },
        data: {
          publishedAt: overrides.publishedAt,
          viewCount: overrides.viewCount === undefined ? undefined : BigInt(overrides.viewCount),
          tags: overrides.tags,
        },
      });
    }
    return ready;
  }

  /** Every page of a list/search, following nextCursor. */
  async function allPages(fetchPage: (cursor: string | null) => Promise<Page>): Promise<string[]> {
    const ids: string[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 50; i++) {
      const page = await fetchPage(cursor);
      ids.push(...page.items.map((v) => v.id));
      cursor = page.nextCursor;
      if (!cursor) return ids;
    }
    throw new Error("too many pages");
  }

  const crafted = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

  it("createForUpload makes an UPLOADING row and is idempotent", async () => {
    const v = await makeVideo({ title: "First" });
    expect(v.status).toBe("UPLOADING");
    expect(v.attempt).toBe(0);
    expect(v.ownerId).toBe("user-1");
    const again = await catalog.uploads.createForUpload({
      videoId: v.id,
      uploadId: v.uploadId ?? "",
      title: "Other",
      description: "",
      filename: null,
    });
    expect(again.title).toBe("First");
    expect(await t.db.prisma.video.count()).toBe(1);
  });

  /** An endpoint of user-1 (events are written only for owners someone listens to); removed after `run`. */
  async function withEndpoint(events: string[], run: () => Promise<unknown>, disabled = false) {
    const id = randomUUID();
    await t.db.prisma.webhookEndpoint.create({
      data: {
        id,
        ownerId: "user-1",
        url: "https://example.test/hook",
        events,
        secret: "whsec_test",
        disabledAt: disabled ? new Date() : null,
      },
    });
    try {
      await run();
    } finally {
      await t.db.prisma.webhookEndpoint.delete({ where: { id } });
    }
  }

  it("writes video events only for owners with an enabled endpoint subscribed to them", async () => {
    const videoEvents = async () =>
      (await outbox.pending(50))
        .filter((r) => r.topic === "video.event")
        .map((r) => (r.payload as { type: string }).type);
    await makeVideo();
    await withEndpoint(["video.created"], makeVideo, true);
    await withEndpoint(["video.deleted"], makeVideo);
    expect(await videoEvents()).toEqual([]);
    await withEndpoint(["video.created"], makeVideo);
    expect(await videoEvents()).toEqual(["video.created"]);
  });

  it("finishUpload queues the video and writes one outbox row, once", async () => {
    await withEndpoint(["video.created", "video.uploaded"], () => finishUploadOnce());
  });

  async function finishUploadOnce() {
    const v = await makeVideo();
    const res = await catalog.uploads.finishUpload(v.id, { sourceKey: `videos/${v.id}/source`, sourceSize: 4096 });
    expect(res?.queued).toBe(true);
    expect(res?.video.status).toBe("QUEUED");
    expect(res?.video.attempt).toBe(1);
    expect(res?.video.sourceSize).toBe(4096n);
    const again = await catalog.uploads.finishUpload(v.id, { sourceKey: `videos/${v.id}/source`, sourceSize: 4096 });
    expect(again?.queued).toBe(false);
    expect(again?.video.attempt).toBe(1);
    const all = await outbox.pending(10);
    const rows = all.filter((r) => r.topic === "video.uploaded");
    expect(rows).toHaveLength(1);
    // The owner's webhook events, in the transactions of their changes.
    const events = all
      .filter((r) => r.topic === "video.event")
      .map((r) => r.payload as { type: string; videoId: string });
    expect(events.map((e) => [e.type, e.videoId])).toEqual([
      ["video.created", v.id],
      ["video.uploaded", v.id],
    ]);
    expect(all.map((r) => r.topic)).toEqual(["video.event", "video.uploaded", "video.event"]);
    expect(rows[0]?.key).toBe(v.id);
    // The owner rides along: the transcode scheduler shares the queue fairly between owners.
    expect(rows[0]?.payload).toEqual({
      videoId: v.id,
      attempt: 1,
      sourceKey: `videos/${v.id}/source`,
      ownerId: "user-1",
    });
    expect(await catalog.uploads.finishUpload(randomUUID(), { sourceKey: "x", sourceSize: 1 })).toBeNull();
    expect(await catalog.uploads.finishUpload("nope", { sourceKey: "x", sourceSize: 1 })).toBeNull();
  }

  it("outbox: markFailed keeps a row pending with its error, markPublished removes it", async () => {
    const v = await makeVideo();
    await catalog.uploads.finishUpload(v.id, { sourceKey: "k", sourceSize: 1 });
    const uploaded = async () => (await outbox.pending(10)).filter((r) => r.topic === "video.uploaded");
    const [row] = await uploaded();
    if (!row) throw new Error("no outbox row");
    await outbox.markFailed(row.id, "broker down");
    const [failed] = await uploaded();
    expect(failed?.attempts).toBe(1);
    expect(failed?.lastError).toBe("broker down");
    await outbox.markPublished(row.id);
    expect(await uploaded()).toEqual([]);
    const stored = await t.db.prisma.outbox.findUnique({ where: { id: row.id } });
    expect(stored?.publishedAt).toBeInstanceOf(Date);
  });

  it("get returns null for a non-uuid or unknown id", async () => {
    const v = await makeVideo();
    expect((await catalog.queries.get(v.id))?.id).toBe(v.id);
    expect(await catalog.queries.get("not-a-uuid")).toBeNull();
    expect(await catalog.queries.get(randomUUID())).toBeNull();
  });

  it("progress, ready and failed ignore stale attempts and never move backwards", async () => {
    const changes: { id: string; status: string | null }[] = [];
    // The change stream carries each committed change with the status after it.
    const off = catalog.changes.subscribe((c) => c && changes.push(c));
    const v = await makeVideo();
    await catalog.uploads.finishUpload(v.id, { sourceKey: "k", sourceSize: 1 });
    expect(
      await catalog.transcodes.applyProgress({ videoId: v.id, attempt: 0, percent: 50, stage: "encoding" }),
    ).toBeNull();
    const p = await catalog.transcodes.applyProgress({ videoId: v.id, attempt: 1, percent: 40, stage: "encoding" });
    expect(p?.status).toBe("PROCESSING");
    expect(p?.progress).toBe(40);
    // An out-of-order older progress report does not lower the percent.
    expect(
      await catalog.transcodes.applyProgress({ videoId: v.id, attempt: 1, percent: 20, stage: "encoding" }),
    ).toBeNull();
    expect(await catalog.transcodes.applyReady(readyEvent(v.id, 2))).toBeNull();
    const ready = await catalog.transcodes.applyReady(readyEvent(v.id, 1));
    expect(ready?.status).toBe("READY");
    expect(ready?.progress).toBe(100);
    expect(ready?.publishedAt).toBeInstanceOf(Date);
    expect(ready?.renditions).toEqual(readyEvent(v.id, 1).renditions);
    expect(ready?.masterKey).toBe(`videos/${v.id}/hls/master.m3u8`);
    // READY is final: late progress, a duplicate ready and a failure are all ignored.
    expect(
      await catalog.transcodes.applyProgress({ videoId: v.id, attempt: 1, percent: 90, stage: "finalizing" }),
    ).toBeNull();
    expect(await catalog.transcodes.applyReady(readyEvent(v.id, 1))).toBeNull();
    expect(
      await catalog.transcodes.applyFailed({ videoId: v.id, attempt: 1, code: "TRANSCODE_ERROR", reason: "boom" }),
    ).toBeNull();
    expect((await catalog.queries.get(v.id))?.status).toBe("READY");
    off();
    await catalog.transcodes.applyProgress({ videoId: v.id, attempt: 1, percent: 100, stage: "finalizing" });
    expect(changes.filter((c) => c.id === v.id).map((c) => c.status)).toEqual([
      "UPLOADING",
      "QUEUED",
      "PROCESSING",
      "READY",
    ]);
  });

  it("playable sets the master and nominal renditions while PROCESSING; ready then measures them", async () => {
    const v = await makeVideo();
    await catalog.uploads.finishUpload(v.id, { sourceKey: "k", sourceSize: 1 });
    expect(await catalog.transcodes.applyPlayable(playableEvent(v.id, 2))).toBeNull();
    const playable = await catalog.transcodes.applyPlayable(playableEvent(v.id, 1));
    expect(playable).toMatchObject({ status: "PROCESSING", masterKey: `videos/${v.id}/hls/master.m3u8`, duration: 3 });
    expect(playable?.renditions).toEqual(playableEvent(v.id, 1).renditions);
    expect(playable?.publishedAt).toBeNull();
    // Progress goes on, and keeps the master.
    const later = await catalog.transcodes.applyProgress({ videoId: v.id, attempt: 1, percent: 60, stage: "encoding" });
    expect(later).toMatchObject({ status: "PROCESSING", progress: 60, masterKey: playable?.masterKey });
    const ready = await catalog.transcodes.applyReady(readyEvent(v.id, 1));
    expect(ready?.renditions).toEqual(readyEvent(v.id, 1).renditions);
    // A late (redelivered) playable event cannot take a READY video back to PROCESSING.
    expect(await catalog.transcodes.applyPlayable(playableEvent(v.id, 1))).toBeNull();
    expect((await catalog.queries.get(v.id))?.status).toBe("READY");
  });

  it("applyFailed records the reason and FAILED stays final", async () => {
    const v = await makeVideo();
    await catalog.uploads.finishUpload(v.id, { sourceKey: "k", sourceSize: 1 });
    const failed = await catalog.transcodes.applyFailed({
      videoId: v.id,
      attempt: 1,
      code: "UNDECODABLE",
      reason: "The file is not a video.",
    });
    expect(failed?.status).toBe("FAILED");
    expect(failed?.failureReason).toBe("The file is not a video.");
    expect(await catalog.transcodes.applyReady(readyEvent(v.id, 1))).toBeNull();
    expect(
      await catalog.transcodes.applyProgress({ videoId: v.id, attempt: 1, percent: 99, stage: "encoding" }),
    ).toBeNull();
    expect((await catalog.queries.get(v.id))?.status).toBe("FAILED");
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
      const page = await catalog.queries.list({ limit: 2, cursor });
      seen.push(...page.items.map((v) => v.id));
      cursor = page.nextCursor;
      pages++;
      if (cursor) expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual(expected);
    const oldest = await catalog.queries.list({ limit: 10, sort: "oldest" });
    expect(oldest.items.map((v) => v.id)).toEqual([...expected].reverse());
    expect(oldest.nextCursor).toBeNull();
    await expect(catalog.queries.list({ limit: 2, cursor: "garbage!" })).rejects.toBeInstanceOf(InvalidCursorError);
  });

  it("search ranks full-text matches, tolerates a misspelling and skips non-READY videos", async () => {
    const kitten = await makeReady({ title: "Funny kitten compilation", description: "cats doing things" });
    const surf = await makeReady({ title: "Surfing in Portugal", description: "big waves and a kitten cameo" });
    await makeReady({ title: "Cooking pasta", description: "italian dinner" });
    await makeVideo({ title: "Kitten upload in progress" });

    const exact = await catalog.queries.search({ q: "kitten", limit: 10 });
    expect(exact.items.map((v) => v.id)).toEqual([kitten.id, surf.id]);

    const misspelt = await catalog.queries.search({ q: "kiten", limit: 10 });
    expect(misspelt.items.map((v) => v.id)).toContain(kitten.id);
    expect(misspelt.items.map((v) => v.title)).not.toContain("Cooking pasta");

    const desc = await catalog.queries.search({ q: "waves", limit: 10 });
    expect(desc.items.map((v) => v.id)).toEqual([surf.id]);

    const paged = await catalog.queries.search({ q: "kitten", limit: 1 });
    expect(paged.items.map((v) => v.id)).toEqual([kitten.id]);
    const next = await catalog.queries.search({ q: "kitten", limit: 1, cursor: paged.nextCursor });
    expect(next.items.map((v) => v.id)).toEqual([surf.id]);
    expect(next.nextCursor).toBeNull();

    expect((await catalog.queries.search({ q: "zzzzqqq", limit: 10 })).items).toEqual([]);
    expect((await catalog.queries.search({ q: "  ", limit: 10 })).items).toEqual([]);
  });

  it("get reads every column exactly as Prisma does (the raw column list has not drifted)", async () => {
    const v = await makeReady({ title: "Raw", tags: ["a", "b"], viewCount: 7 });
    expect(await catalog.queries.get(v.id)).toEqual(await t.db.prisma.video.findUnique({ where: { id: v.id } }));
    const page = await catalog.queries.list({ limit: 1 });
    expect(page.items[0]).toEqual(await t.db.prisma.video.findUnique({ where: { id: v.id } }));
  });

  it("sorts by newest, oldest, longest and most viewed with keyset pages, ties broken by id", async () => {
    const day = (d: number) => new Date(Date.UTC(2026, 0, d));
    const vids = [
      await makeReady({ title: "a", duration: 30, viewCount: 5, publishedAt: day(3) }),
      await makeReady({ title: "b", duration: 600, viewCount: 5, publishedAt: day(1) }),
      await makeReady({ title: "c", duration: 600, viewCount: 900, publishedAt: day(2) }),
      await makeReady({ title: "d", duration: 3000, viewCount: 0, publishedAt: day(2) }),
      await makeReady({ title: "e", duration: 5, viewCount: 1, publishedAt: day(5) }),
    ];
    await makeVideo({ title: "not ready" });
    const byId = (a: Video, b: Video) => (a.id < b.id ? 1 : -1);
    const expected = {
      newest: [...vids].sort((a, b) => (b.publishedAt?.getTime() ?? 0) - (a.publishedAt?.getTime() ?? 0) || byId(a, b)),
      oldest: [...vids].sort(
        (a, b) => (a.publishedAt?.getTime() ?? 0) - (b.publishedAt?.getTime() ?? 0) || -byId(a, b),
      ),
      longest: [...vids].sort((a, b) => (b.duration ?? 0) - (a.duration ?? 0) || byId(a, b)),
      views: [...vids].sort((a, b) => Number(b.viewCount - a.viewCount) || byId(a, b)),
    };
    for (const [sort, order] of Object.entries(expected)) {
      const ids = await allPages((cursor) =>
        catalog.queries.list({ limit: 2, cursor, sort: sort as keyof typeof expected }),
      );
      expect(ids, sort).toEqual(order.map((v) => v.id));
    }
  });

  it("filters by duration bucket or range, publish dates, height, tags and owner", async () => {
    await makeUser(t.db.prisma, { id: "ann" });
    const short = await makeReady({ title: "short clip", duration: 60, height: 480, tags: ["cats"], ownerId: "ann" });
    const medium = await makeReady({
      title: "medium clip",
      duration: 600,
      height: 1080,
      tags: ["cats", "funny"],
      publishedAt: new Date("2025-06-01T00:00:00Z"),
    });
    const long = await makeReady({ title: "long clip", duration: 3600, height: 720, tags: ["funny"] });
    const ids = async (f: Parameters<Catalog["queries"]["list"]>[0]) =>
      (await catalog.queries.list(f)).items.map((v) => v.title).sort();
    expect(await ids({ limit: 10, duration: "short" })).toEqual(["short clip"]);
    expect(await ids({ limit: 10, duration: "medium" })).toEqual(["medium clip"]);
    expect(await ids({ limit: 10, duration: "long" })).toEqual(["long clip"]);
    expect(await ids({ limit: 10, minDuration: 60, maxDuration: 3600 })).toEqual(["medium clip", "short clip"]);
    expect(await ids({ limit: 10, minHeight: 720 })).toEqual(["long clip", "medium clip"]);
    expect(await ids({ limit: 10, tags: ["cats"] })).toEqual(["medium clip", "short clip"]);
    expect(await ids({ limit: 10, tags: ["cats", "funny"] })).toEqual(["medium clip"]);
    expect(await ids({ limit: 10, ownerId: "ann" })).toEqual(["short clip"]);
    expect(await ids({ limit: 10, publishedBefore: new Date("2026-01-01T00:00:00Z") })).toEqual(["medium clip"]);
    expect(await ids({ limit: 10, publishedAfter: new Date("2026-01-01T00:00:00Z") })).toEqual([
      "long clip",
      "short clip",
    ]);
    // The same filters narrow a search.
    const found = await catalog.queries.search({ q: "clip", limit: 10, tags: ["funny"], minHeight: 1000 });
    expect(found.items.map((v) => v.id)).toEqual([medium.id]);
    expect((await catalog.queries.search({ q: "clip", limit: 10, duration: "short" })).items.map((v) => v.id)).toEqual([
      short.id,
    ]);
    expect((await catalog.queries.search({ q: "clip", limit: 10, sort: "longest" })).items.map((v) => v.id)).toEqual([
      long.id,
      medium.id,
      short.id,
    ]);
  });

  it("search ranks title matches above description matches and pages by keyset", async () => {
    const inTitle = await makeReady({ title: "Guitar lesson", description: "strings" });
    const inDesc = await makeReady({ title: "Evening jam", description: "a guitar and a piano" });
    const both = await makeReady({ title: "Guitar guitar", description: "more guitar solos" });
    await makeReady({ title: "Piano only", description: "keys" });
    const ranked = await catalog.queries.search({ q: "guitar", limit: 10 });
    expect(ranked.items.map((v) => v.id)).toEqual([both.id, inTitle.id, inDesc.id]);
    const paged = await allPages((cursor) => catalog.queries.search({ q: "guitar", limit: 1, cursor }));
    expect(paged).toEqual([both.id, inTitle.id, inDesc.id]);
    // Every word matching (full text) ranks first; a phrase keeps word order. Fewer full-text
    // matches than a page bring in close titles (typo tolerance) below them.
    expect((await catalog.queries.search({ q: "guitar piano", limit: 10 })).items[0]?.id).toBe(inDesc.id);
    expect((await catalog.queries.search({ q: '"guitar lesson"', limit: 10 })).items[0]?.id).toBe(inTitle.id);
    const newest = await allPages((cursor) =>
      catalog.queries.search({ q: "guitar", limit: 2, cursor, sort: "oldest" }),
    );
    expect(newest).toEqual([inTitle.id, inDesc.id, both.id]);
  });

  it("rejects every cursor it did not issue (InvalidCursorError, never a database error)", async () => {
    const v = await makeReady({ title: "cursor target" });
    const i = v.id;
    const listCursors = [
      "garbage!",
      crafted({ o: 1e21 }),
      crafted({ o: 2 ** 63 }),
      crafted({ m: "l", s: "newest", k: Date.UTC(0, 0, 1) - 1900 * 365.25 * 864e5, i }),
      crafted({ m: "l", s: "newest", k: new Date("0000-01-01T00:00:00Z").getTime(), i }),
      crafted({ m: "l", s: "newest", k: -62198755200000, i }),
      crafted({ m: "l", s: "newest", k: 1e21, i }),
      crafted({ m: "l", s: "newest", k: 1.5, i }),
      crafted({ m: "l", s: "newest", k: 0, i: "not-a-uuid" }),
      crafted({ m: "l", s: "oldest", k: 0, i }),
      crafted({ m: "s", s: "newest", k: 0, i }),
      crafted({ m: "l", s: "newest", k: 0, i, extra: 1 }),
      crafted({ p: "-000001-01-01T00:00:00.000Z", i }),
      crafted({ p: "0000-01-01T00:00:00.000Z", i }),
      crafted([1, 2]),
      crafted(null),
    ];
    for (const cursor of listCursors) {
      await expect(catalog.queries.list({ limit: 2, cursor }), cursor).rejects.toBeInstanceOf(InvalidCursorError);
    }
    await expect(
      catalog.queries.list({ limit: 2, sort: "views", cursor: crafted({ m: "l", s: "views", k: 2 ** 63, i }) }),
    ).rejects.toBeInstanceOf(InvalidCursorError);
    for (const cursor of [
      crafted({ o: 1e21 }),
      crafted({ m: "s", s: "relevance", k: 1e21, i }),
      crafted({ m: "l", s: "relevance", k: 1, i }),
    ]) {
      await expect(catalog.queries.search({ q: "x", limit: 2, cursor }), cursor).rejects.toBeInstanceOf(
        InvalidCursorError,
      );
    }
    // A valid cursor past the end is an empty page, not an error.
    const end = await catalog.queries.list({ limit: 2, cursor: crafted({ m: "l", s: "newest", k: 0, i }) });
    expect(end.items).toEqual([]);
  });

  it("lists, searches and suggests PUBLIC videos only, over every keyset page; listMine pages through the owner's own", async () => {
    await makeUser(t.db.prisma, { id: "user-2" });
    const made: Video[] = [];
    for (const [i, visibility] of (
      ["PUBLIC", "UNLISTED", "PRIVATE", "PUBLIC", "PRIVATE", "PUBLIC"] as const
    ).entries()) {
      const v = await makeReady({ title: `Harbour walk ${i}`, publishedAt: new Date(Date.UTC(2026, 0, i + 1)) });
      made.push(visibility === "PUBLIC" ? v : ((await catalog.edits.update(v.id, { visibility })) as Video));
    }
    const others = await makeReady({ title: "Harbour walk elsewhere", ownerId: "user-2" });
    await catalog.edits.update(others.id, { visibility: "PRIVATE" });
    const publicIds = made.filter((v) => v.visibility === "PUBLIC").map((v) => v.id);
    for (const sort of ["newest", "oldest", "longest", "views"] as const) {
      const listed = await allPages((cursor) => catalog.queries.list({ limit: 1, cursor: cursor ?? undefined, sort }));
      expect([...listed].sort(), sort).toEqual([...publicIds].sort());
      const found = await allPages((cursor) =>
        catalog.queries.search({ q: "harbour", limit: 1, cursor: cursor ?? undefined, sort }),
      );
      expect([...found].sort(), sort).toEqual([...publicIds].sort());
    }
    // A typo goes through the trigram candidates: still PUBLIC only.
    expect((await catalog.queries.search({ q: "harbuor", limit: 20 })).items.map((v) => v.id).sort()).toEqual(
      [...publicIds].sort(),
    );
    expect(await catalog.queries.suggest("harbour walk", 20)).toEqual(
      expect.arrayContaining(["Harbour walk 0", "Harbour walk 3", "Harbour walk 5"]),
    );
    expect(await catalog.queries.suggest("harbour walk", 20)).toHaveLength(3);
    // The owner's own, every visibility, newest created first; another owner's stay out.
    const mine = await allPages((cursor) =>
      catalog.queries.listMine("user-1", { limit: 2, cursor: cursor ?? undefined }),
    );
    expect(mine).toEqual([...made].reverse().map((v) => v.id));
    expect(
      await allPages((cursor) => catalog.queries.listMine("user-2", { limit: 2, cursor: cursor ?? undefined })),
    ).toEqual([others.id]);
    // A list cursor is no cursor of listMine (and the other way round).
    const listCursor = (await catalog.queries.list({ limit: 1 })).nextCursor as string;
    await expect(catalog.queries.listMine("user-1", { limit: 1, cursor: listCursor })).rejects.toThrow(
      "invalid cursor",
    );
    const mineCursor = (await catalog.queries.listMine("user-1", { limit: 1 })).nextCursor as string;
    await expect(catalog.queries.list({ limit: 1, cursor: mineCursor })).rejects.toThrow("invalid cursor");
  });

  it("suggests READY titles by prefix, case-insensitively, most viewed first", async () => {
    await makeReady({ title: "Cooking pasta", viewCount: 3 });
    await makeReady({ title: "cooking rice", viewCount: 10 });
    await makeReady({ title: "Cooking pasta", viewCount: 1 });
    await makeReady({ title: "Baking 100% bread" });
    await makeVideo({ title: "Cooking in progress" });
    expect(await catalog.queries.suggest("cook", 8)).toEqual(["cooking rice", "Cooking pasta"]);
    expect(await catalog.queries.suggest("COOKING P", 8)).toEqual(["Cooking pasta"]);
    expect(await catalog.queries.suggest("baking 100%", 8)).toEqual(["Baking 100% bread"]);
    expect(await catalog.queries.suggest("%", 8)).toEqual([]);
    expect(await catalog.queries.suggest("zzz", 8)).toEqual([]);
  });

  it("suggests PUBLIC READY titles only, with `%`, `_` and `\\` in the prefix taken literally", async () => {
    await makeReady({ title: "Snow_day walk" });
    await makeReady({ title: "Snowy day walk" });
    await makeReady({ title: "C:\\clips\\intro" });
    await makeReady({ title: "C:clips outro" });
    const hidden = [await makeReady({ title: "Plan private" }), await makeReady({ title: "Plan unlisted" })];
    await catalog.edits.update(hidden[0]?.id ?? "", { visibility: "PRIVATE" });
    await catalog.edits.update(hidden[1]?.id ?? "", { visibility: "UNLISTED" });
    await makeVideo({ title: "Plan still uploading" });
    await makeReady({ title: "Plan public" });
    expect(await catalog.queries.suggest("snow_", 8)).toEqual(["Snow_day walk"]);
    expect(await catalog.queries.suggest("snow", 8)).toEqual(["Snow_day walk", "Snowy day walk"]);
    expect(await catalog.queries.suggest("c:\\", 8)).toEqual(["C:\\clips\\intro"]);
    expect(await catalog.queries.suggest("_", 8)).toEqual([]);
    expect(await catalog.queries.suggest("plan", 8)).toEqual(["Plan public"]);
    expect(await catalog.queries.suggest("  plan ", 1)).toEqual(["Plan public"]);
  });

  it("finds suggestions through a range of the prefix index, not a scan of the table", async () => {
    // Enough public READY rows (and hidden ones) that the planner prefers the index on its own.
    await t.db.prisma.$executeRawUnsafe(`
      INSERT INTO "video" ("id", "title", "status", "visibility", "view_count", "created_at", "updated_at")
      SELECT gen_random_uuid(), 'Title ' || g, 'READY', CASE WHEN g % 10 = 0 THEN 'PRIVATE' ELSE 'PUBLIC' END::"Visibility",
             g % 97, now(), now()
        FROM generate_series(1, 20000) g`);
    await t.db.prisma.$executeRawUnsafe(`ANALYZE "video"`);
    const [{ "QUERY PLAN": plan }] = (await t.db.prisma.$queryRaw<{ "QUERY PLAN": unknown }[]>(
      Prisma.sql`EXPLAIN (FORMAT JSON) ${suggestionsQuery("title 123", 8)}`,
    )) as [{ "QUERY PLAN": unknown }];
    const nodes: Record<string, unknown>[] = [];
    const walk = (n: Record<string, unknown>) => {
      nodes.push(n);
      for (const child of (n.Plans as Record<string, unknown>[] | undefined) ?? []) walk(child);
    };
    walk((plan as { Plan: Record<string, unknown> }[])[0]?.Plan ?? {});
    // The table is reached through the prefix index alone (a bitmap heap scan may follow it).
    const tableReads = nodes.filter((n) => n["Relation Name"] === "video" || n["Index Name"] !== undefined);
    expect(tableReads.map((n) => n["Node Type"])).not.toContain("Seq Scan");
    const prefixScan = tableReads.find((n) => n["Index Name"] === "video_title_prefix_idx");
    expect(prefixScan?.["Node Type"]).toMatch(/^(Index Only Scan|Index Scan|Bitmap Index Scan)$/);
    // A range of the index (the LIKE prefix as bounds), not the whole index with a filter.
    expect(String(prefixScan?.["Index Cond"])).toMatch(/~>=~ 'title 123'.*~<~ 'title 124'/);
    // The index can hand the candidates over in the order asked for, so a broad prefix stops after
    // them instead of sorting its whole range (the planner takes that path on large catalogs;
    // here it is made to show that it can).
    const broad = JSON.stringify(
      await t.db.prisma.$transaction(async (tx) => {
        await tx.$executeRawUnsafe("SET LOCAL enable_sort = off");
        await tx.$executeRawUnsafe("SET LOCAL enable_bitmapscan = off");
        return tx.$queryRaw(Prisma.sql`EXPLAIN (FORMAT JSON) ${suggestionsQuery("title", 8)}`);
      }),
    );
    expect(broad).toContain("video_title_prefix_idx");
    expect(broad).not.toMatch(/"Sort Key":\[[^\]]*lower/);
    expect(await catalog.queries.suggest("Title 12345", 8)).toEqual(["Title 12345"]);
    expect(await catalog.queries.suggest("Title 12340", 8)).toEqual([]);
  });

  it("keeps typeahead answers in the cache until a video changes", async () => {
    const cached = createCatalog(t.db.prisma, { cache: new VideoCache() });
    const v = await makeReady({ title: "Harbour at dawn" });
    expect(await cached.queries.suggest("harb", 8)).toEqual(["Harbour at dawn"]);
    // Behind the catalog's back: the cached answer stays.
    await t.db.prisma.video.update({ where: { id: v.id }, data: { title: "Harbour at dusk" } });
    expect(await cached.queries.suggest("harb", 8)).toEqual(["Harbour at dawn"]);
    expect(await cached.queries.suggest("harb", 1)).toEqual(["Harbour at dawn"]);
    // A video still on its way to READY changing (progress, playable) leaves answers and pages be.
    const page = await cached.queries.list({ limit: 5 });
    const processing = await makeVideo({ title: "Harbour in progress" });
    await cached.uploads.finishUpload(processing.id, { sourceKey: `videos/${processing.id}/source`, sourceSize: 1 });
    await cached.transcodes.applyProgress({ videoId: processing.id, attempt: 1, percent: 40, stage: "encoding" });
    expect((await cached.queries.get(processing.id))?.progress).toBe(40);
    await cached.transcodes.applyProgress({ videoId: processing.id, attempt: 1, percent: 60, stage: "encoding" });
    expect((await cached.queries.get(processing.id))?.progress).toBe(60);
    expect(await cached.queries.suggest("harb", 8)).toEqual(["Harbour at dawn"]);
    expect(await cached.queries.list({ limit: 5 })).toBe(page);
    // Through it, a READY video's change: every answer and page goes.
    await cached.edits.update(v.id, { title: "Harbour at night" });
    expect(await cached.queries.suggest("harb", 8)).toEqual(["Harbour at night"]);
    expect(await cached.queries.list({ limit: 5 })).not.toBe(page);
  });

  it("answers longer prefixes from a shorter complete answer exactly as the database does, and only then", async () => {
    const titles = [
      "Harbour at dawn",
      "harbour at Dusk",
      "Harbour_at noon",
      "HARBOUR 100% live",
      "Harbor tour",
      "Hárbour accent",
      "Häfen und Schiffe",
      "港の朝",
      "港の夜",
      "Harbour at dawn",
    ];
    for (const [i, title] of titles.entries()) await makeReady({ title, viewCount: (i * 7) % 5 });
    const cached = createCatalog(t.db.prisma, { cache: new VideoCache() });
    const typed = ["Harbour at dawn", "HARBOUR 1", "harbour_", "Hárbour", "Häfen", "港の朝", "hz"];
    const asked: string[] = [];
    for (const title of typed) {
      for (let n = 1; n <= title.length; n++) {
        const prefix = title.slice(0, n);
        asked.push(prefix);
        expect(await cached.queries.suggest(prefix, 8), prefix).toEqual(await catalog.queries.suggest(prefix, 8));
      }
    }
    // Behind the catalog's back: what was answered from memory keeps the old title, so the
    // longer prefixes above came from the complete answer of "h" (ten rows), not the database.
    await t.db.prisma.video.updateMany({ where: { title: "Harbor tour" }, data: { title: "Harbor trip" } });
    expect(await cached.queries.suggest("harbor t", 8)).toEqual(["Harbor tour"]);
    expect(await catalog.queries.suggest("harbor t", 8)).toEqual(["Harbor trip"]);
    // A prefix whose letters the database folds by its locale (á) is always asked of it.
    expect(await cached.queries.suggest("hár", 8)).toEqual(await catalog.queries.suggest("hár", 8));

    // An incomplete answer (as many candidates as the scan takes) is never narrowed from.
    await t.db.prisma.$executeRaw`
      INSERT INTO "video" ("id", "title", "status", "visibility", "view_count", "published_at", "updated_at")
      SELECT gen_random_uuid(), 'Bulk clip ' || n, 'READY', 'PUBLIC', n % 97, now(), now()
        FROM generate_series(1, ${SEARCH_CANDIDATES}) n`;
    const fresh = createCatalog(t.db.prisma, { cache: new VideoCache() });
    for (const prefix of ["b", "bu", "bulk clip", "bulk clip 1", "bulk clip 12", "bulk clip 123"]) {
      expect(await fresh.queries.suggest(prefix, 20), prefix).toEqual(await catalog.queries.suggest(prefix, 20));
    }
    expect(await fresh.queries.suggest("bulk clip 999", 8)).toEqual(["Bulk clip 999"]);
  });

  it("keeps every title in memory and answers as the database does; a change sends prefixes to the database until it reloads", async () => {
    const titles = ["Harbour at dawn", "harbour at Dusk", "Harbor tour", "HARBOUR 100% live", "Hárbour", "港の朝"];
    for (const [i, title] of titles.entries()) await makeReady({ title, viewCount: (i * 5) % 3 });
    const memory = createCatalog(t.db.prisma, { typeahead: { maxTitles: 100, minReloadMs: 0 } });
    const typeahead = memory.queries.typeahead;
    if (!typeahead) throw new Error("no typeahead memory");
    try {
      await typeahead.start();
      expect(typeahead.current()?.size).toBe(titles.length);
      for (const prefix of ["h", "H", "harb", "harbour at d", "harbour 100%", "港", "x", "hár"]) {
        expect(await memory.queries.suggest(prefix, 8), prefix).toEqual(await catalog.queries.suggest(prefix, 8));
      }
      // Behind the catalog's back: memory keeps what it loaded…
      await t.db.prisma.video.updateMany({ where: { title: "Harbor tour" }, data: { title: "Harbor trip" } });
      expect(await memory.queries.suggest("harbor t", 8)).toEqual(["Harbor tour"]);
      // …through it, a READY video's change makes it out of date at once: the database answers.
      const [dawn] = await t.db.prisma.video.findMany({ where: { title: "Harbour at dawn" } });
      await memory.edits.update(dawn?.id ?? "", { title: "Harbour at noon" });
      expect(typeahead.current()).toBeNull();
      expect(await memory.queries.suggest("harbour at", 8)).toEqual(await catalog.queries.suggest("harbour at", 8));
      await expect
        .poll(() => typeahead.current()?.suggest("harbor t", 8)?.titles, { timeout: 10_000 })
        .toEqual(["Harbor trip"]);
      // More titles than it may keep: the database answers.
      const small = createCatalog(t.db.prisma, { typeahead: { maxTitles: 3 } });
      await small.queries.typeahead?.start();
      expect(small.queries.typeahead?.current()).toBeNull();
      expect(await small.queries.suggest("harb", 8)).toEqual(await catalog.queries.suggest("harb", 8));
      small.queries.typeahead?.close();
    } finally {
      typeahead.close();
    }
  });

  it("shares one typeahead load between callers asking for the same prefix at once", async () => {
    const cache = new VideoCache();
    let loads = 0;
    let release: (titles: string[]) => void = () => undefined;
    const load = () => {
      loads++;
      return new Promise<TypeaheadAnswer>((resolve) => {
        release = (titles) => resolve({ titles });
      });
    };
    const titlesOf = async (answer: Promise<TypeaheadAnswer>) => (await answer).titles;
    const first = titlesOf(cache.getOrLoadSuggestions("k", load));
    const second = titlesOf(cache.getOrLoadSuggestions("k", load));
    release(["A"]);
    expect(await Promise.all([first, second])).toEqual([["A"], ["A"]]);
    expect(loads).toBe(1);
    // A caller after an invalidation never joins a load that began before it.
    const stale = titlesOf(cache.getOrLoadSuggestions("j", load));
    const releaseStale = release;
    cache.invalidate(null);
    const fresh = titlesOf(cache.getOrLoadSuggestions("j", load));
    release(["new"]);
    releaseStale(["old"]);
    expect(await stale).toEqual(["old"]);
    expect(await fresh).toEqual(["new"]);
    expect(await titlesOf(cache.getOrLoadSuggestions("j", load))).toEqual(["new"]);
    expect(loads).toBe(3);
  });

  it("counts a view once per session, forgets the oldest sessions past maxSessions, and writes the counts", async () => {
    const [a, b, c] = [
      await makeReady({ title: "a" }),
      await makeReady({ title: "b" }),
      await makeReady({ title: "c" }),
    ];
    const views = createCatalog(t.db.prisma, { views: new ViewCounter(t.db.prisma, { maxSessions: 2 }) });
    expect(views.queries.recordView(a.id, "s1", "203.0.113.1")).toBe(true);
    expect(views.queries.recordView(a.id, "s1", "203.0.113.1")).toBe(false);
    expect(views.queries.recordView(b.id, "s2", "203.0.113.1")).toBe(true);
    // A third session pushes out the least recently seen one (a/s1), which then counts again.
    expect(views.queries.recordView(c.id, "s3", "203.0.113.1")).toBe(true);
    expect(views.queries.recordView(a.id, "s1", "203.0.113.1")).toBe(true);
    expect(views.queries.recordView(c.id, "s3", "203.0.113.1")).toBe(false);
    await views.queries.flushViews();
    const counts = await Promise.all([a, b, c].map(async (v) => Number((await catalog.queries.get(v.id))?.viewCount)));
    expect(counts).toEqual([2, 1, 1]);
  });

  it("update stores tags trimmed, lower-case and without duplicates", async () => {
    const v = await makeReady({ title: "Tagged" });
    const u = await catalog.edits.update(v.id, { tags: [" Cats ", "cats", "Funny", ""] });
    expect(u?.tags).toEqual(["cats", "funny"]);
    expect((await catalog.queries.list({ limit: 5, tags: ["funny"] })).items.map((x) => x.id)).toEqual([v.id]);
  });

  it("update changes title/description; delete returns the row once", async () => {
    const v = await makeVideo({ title: "Old" });
    const u = await catalog.edits.update(v.id, { title: "New" });
    expect(u?.title).toBe("New");
    expect(u?.description).toBe("");
    expect(await catalog.edits.update(randomUUID(), { title: "x" })).toBeNull();
    expect(await catalog.edits.update("bad", { title: "x" })).toBeNull();
    const d = await catalog.edits.delete(v.id);
    expect(d?.id).toBe(v.id);
    expect(await catalog.edits.delete(v.id)).toBeNull();
    expect(await catalog.queries.get(v.id)).toBeNull();
  });
}

describe("Catalog (embedded PostgreSQL)", () => suite("embedded"));
describeWith("postgres", postgresMissing, "Catalog (PostgreSQL)", () => suite("postgres"));
