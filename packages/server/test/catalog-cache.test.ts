/**
 * HTTP caching of catalog reads (ETag / 304, Cache-Control for shared caches) and the in-process
 * video cache across two server instances on one PostgreSQL database.
 */
import { randomUUID } from "node:crypto";
import path from "node:path";
import { LocalStorage, loadConfig } from "@reelkit/core";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { describeWith } from "../../../test/engines.js";
import { buildApp } from "../src/app.js";
import { type Catalog, createCatalog, type Page } from "../src/catalog/catalog.js";
import { VideoCache } from "../src/catalog/video-cache.js";
import { type Database, openDatabase } from "../src/db/database.js";
import { createTestDatabase, postgresMissing, type TestDatabase } from "../src/db/test-databases.js";
import { testAuth } from "./auth.js";
import { makeQueuedVideo, makeReadyVideo, signUp, type TestUser } from "./factories.js";

const PUBLIC = "public, max-age=5, stale-while-revalidate=30";
const PERSONAL = "private, no-store";

interface Instance {
  app: FastifyInstance;
  base: string;
  catalog: Catalog;
  cache: VideoCache<Page>;
}

/** One server instance as the runtime wires it: the database's change feed drives its cache. */
async function startInstance(db: Database, dataDir: string): Promise<Instance> {
  const config = loadConfig({ REELKIT_DATA_DIR: dataDir, REELKIT_LOG_LEVEL: "silent" });
  // Pages kept long enough that only an invalidation, never the TTL, changes them within a test.
  const cache = new VideoCache<Page>({ pageTtlMs: 60_000 });
  const catalog = createCatalog(db.prisma, { cache, feed: db.changes });
  const storage = new LocalStorage(path.join(dataDir, "media"));
  const app = await buildApp({ config, storage, catalog, auth: testAuth(db.prisma, config) });
  const base = await app.listen({ port: 0, host: "127.0.0.1" });
  return { app, base, catalog, cache };
}

describe("HTTP caching of catalog reads (embedded database)", () => {
  let t: TestDatabase;
  let one: Instance;
  let owner: TestUser;
  beforeAll(async () => {
    t = await createTestDatabase("embedded");
    one = await startInstance(t.db, t.dataDir);
    owner = await signUp(one.base);
  }, 60_000);
  afterAll(async () => {
    await one?.app.close();
    await t?.dispose();
  });

  it("answers If-None-Match with 304 on video and list reads until the video changes", async () => {
    const id = await makeReadyVideo(one.catalog, { title: "Etag me", ownerId: owner.id });
    for (const url of [
      `${one.base}/api/videos/${id}`,
      `${one.base}/api/videos?limit=5`,
      `${one.base}/api/videos?q=etag`,
    ]) {
      const first = await fetch(url);
      expect(first.status).toBe(200);
      const etag = first.headers.get("etag");
      expect(etag, url).toMatch(/^"[^"]+"$/);
      const again = await fetch(url, { headers: { "if-none-match": etag ?? "" } });
      expect(again.status, url).toBe(304);
      expect(await again.text()).toBe("");
      expect(again.headers.get("cache-control")).toBe(PUBLIC);
    }
    const before = (await fetch(`${one.base}/api/videos/${id}`)).headers.get("etag") ?? "";
    await fetch(`${one.base}/api/videos/${id}`, {
      method: "PATCH",
      headers: { "content-type": "application/json", ...owner.bearer },
      body: JSON.stringify({ title: "Etag changed" }),
    });
    const changed = await fetch(`${one.base}/api/videos/${id}`, { headers: { "if-none-match": before } });
    expect(changed.status).toBe(200);
    expect((await changed.json()).title).toBe("Etag changed");
    expect(changed.headers.get("etag")).not.toBe(before);
  });

  it("lets shared caches keep public reads briefly, never credentialed ones or videos still changing", async () => {
    const ready = await makeReadyVideo(one.catalog, { title: "Cacheable", ownerId: owner.id });
    const queued = await makeQueuedVideo(one.catalog, { title: "Still processing", ownerId: owner.id });
    const header = async (url: string, headers: Record<string, string> = {}) =>
      (await fetch(`${one.base}${url}`, { headers })).headers.get("cache-control");
    expect(await header(`/api/videos/${ready}`)).toBe(PUBLIC);
    expect(await header("/api/videos")).toBe(PUBLIC);
    expect(await header("/api/videos?q=cacheable")).toBe(PUBLIC);
    expect(await header("/api/videos/suggestions?q=cach")).toBe(PUBLIC);
    // A per-user request (a token or a session cookie) is for that user only.
    expect(await header(`/api/videos/${ready}`, { authorization: "Bearer x" })).toBe("private, no-cache");
    expect(await header(`/api/videos/${ready}`, owner.bearer)).toBe("private, no-cache");
    expect(await header("/api/videos", { cookie: "session=1" })).toBe("private, no-cache");
    // Status and progress move while processing: always revalidate.
    expect(await header(`/api/videos/${queued}`)).toBe("no-cache");
    const patch = await fetch(`${one.base}/api/videos/${ready}`, {
      method: "PATCH",
      headers: { "content-type": "application/json", ...owner.bearer },
      body: JSON.stringify({ title: "Cacheable 2" }),
    });
    expect(patch.headers.get("cache-control")).toBe("no-store");
    const missing = await fetch(`${one.base}/api/videos/00000000-0000-4000-8000-000000000000`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get("cache-control")).toBe("no-store");
  });

  it("counts a view once per playback session", async () => {
    const id = await makeReadyVideo(one.catalog, { title: "Watched", ownerId: owner.id });
    const view = (session: string) =>
      fetch(`${one.base}/api/videos/${id}/views`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ session }),
      });
    expect((await view("session-aaaa")).status).toBe(202);
    expect((await view("session-aaaa")).status).toBe(202);
    expect((await view("session-bbbb")).status).toBe(202);
    await one.catalog.queries.flushViews();
    expect((await (await fetch(`${one.base}/api/videos/${id}`)).json()).viewCount).toBe(2);
    const bad = await fetch(`${one.base}/api/videos/${id}/views`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({}),
    });
    expect(bad.status).toBe(400);
    const unknown = await fetch(`${one.base}/api/videos/00000000-0000-4000-8000-000000000000/views`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ session: "session-aaaa" }),
    });
    expect(unknown.status).toBe(404);
    expect((await unknown.json()).error.code).toBe("VIDEO_NOT_FOUND");
  });

  it("counts at most 3 views per client address and video, however many session ids it makes up", async () => {
    const id = await makeReadyVideo(one.catalog, { title: "Inflated", ownerId: owner.id });
    const view = (session: string, remoteAddress: string) =>
      one.app.inject({
        method: "POST",
        url: `/api/videos/${id}/views`,
        remoteAddress,
        payload: { session },
      });
    for (let i = 0; i < 100; i++) expect((await view(randomUUID(), "198.51.100.7")).statusCode).toBe(202);
    for (let i = 1; i <= 5; i++) expect((await view(randomUUID(), `203.0.113.${i}`)).statusCode).toBe(202);
    await one.catalog.queries.flushViews();
    expect((await (await fetch(`${one.base}/api/videos/${id}`)).json()).viewCount).toBe(3 + 5);
  });

  it("never serves an unlisted or private video, or a caller's own list, from a shared cache to another caller", async () => {
    const other = await signUp(one.base);
    const word = `borealis${randomUUID().slice(0, 8)}`;
    const make = (title: string, visibility: "PUBLIC" | "UNLISTED" | "PRIVATE") =>
      makeReadyVideo(one.catalog, { title: `${word} ${title}`, ownerId: owner.id, visibility });
    const pub = await make("shared", "PUBLIC");
    const unl = await make("unlisted", "UNLISTED");
    const priv = await make("private", "PRIVATE");
    const get = (url: string, headers: Record<string, string> = {}) => fetch(`${one.base}${url}`, { headers });
    const ids = async (res: Response) => ((await res.json()) as { items: { id: string }[] }).items.map((v) => v.id);

    // Lists, search, an owner filter and suggestions show PUBLIC videos only, whoever asks.
    for (const headers of [{}, owner.bearer]) {
      for (const url of ["/api/videos?limit=100", `/api/videos?q=${word}`, `/api/videos?owner=${owner.id}&limit=100`]) {
        const listed = await ids(await get(url, headers));
        expect(listed, url).toContain(pub);
        expect(listed, url).not.toContain(unl);
        expect(listed, url).not.toContain(priv);
      }
    }
    expect((await (await get(`/api/videos/suggestions?q=${word}`)).json()).suggestions).toEqual([`${word} shared`]);

    // mine=1 is the caller's own, every visibility, and no cache may keep it.
    const mine = await get("/api/videos?mine=1", owner.bearer);
    expect(mine.headers.get("cache-control")).toBe(PERSONAL);
    expect(await ids(mine)).toEqual(expect.arrayContaining([pub, unl, priv]));
    const othersMine = await get("/api/videos?mine=1", other.bearer);
    expect(othersMine.headers.get("cache-control")).toBe(PERSONAL);
    expect(await ids(othersMine)).toEqual([]);
    const anonymousMine = await get("/api/videos?mine=1");
    expect(anonymousMine.status).toBe(401);
    expect(anonymousMine.headers.get("cache-control")).toBe("no-store");

    // The owner reads the private video (now in the in-process cache): private, never stored.
    const ownRead = await get(`/api/videos/${priv}`, owner.bearer);
    expect(ownRead.status).toBe(200);
    expect(ownRead.headers.get("cache-control")).toBe(PERSONAL);
    const ownEtag = ownRead.headers.get("etag") ?? "";
    expect(one.cache.size).toBeGreaterThan(0);
    // Nobody else gets it from that cache, nor a 304 for the owner's ETag.
    for (const headers of [{}, other.bearer, { "if-none-match": ownEtag }]) {
      const res = await get(`/api/videos/${priv}`, headers);
      expect(res.status).toBe(404);
      expect(res.headers.get("cache-control")).toBe("no-store");
    }
    // An unlisted video plays by link, but no shared cache keeps it.
    const unlisted = await get(`/api/videos/${unl}`);
    expect(unlisted.status).toBe(200);
    expect(unlisted.headers.get("cache-control")).toBe(PERSONAL);

    // A public video cached in-process and then made private is gone for others at once.
    expect((await get(`/api/videos/${pub}`)).headers.get("cache-control")).toBe(PUBLIC);
    const hide = await fetch(`${one.base}/api/videos/${pub}`, {
      method: "PATCH",
      headers: { "content-type": "application/json", ...owner.bearer },
      body: JSON.stringify({ visibility: "PRIVATE" }),
    });
    expect(hide.status).toBe(200);
    expect((await get(`/api/videos/${pub}`)).status).toBe(404);
    expect(await ids(await get(`/api/videos?q=${word}`))).toEqual([]);
  });
});

describeWith("postgres", postgresMissing, "video cache across two server instances (PostgreSQL)", () => {
  let t: TestDatabase;
  let secondDb: Database;
  let a: Instance;
  let b: Instance;
  let owner: TestUser;
  beforeAll(async () => {
    t = await createTestDatabase("postgres");
    secondDb = await openDatabase({ dataDir: t.dataDir, databaseUrl: t.url });
    a = await startInstance(t.db, t.dataDir);
    b = await startInstance(secondDb, t.dataDir);
    owner = await signUp(a.base);
  }, 60_000);
  afterAll(async () => {
    for (const i of [a, b]) await i?.app.close();
    await secondDb?.close();
    await t?.dispose();
  });

  /** Resolves once B has heard every change A announced so far (NOTIFYs of one session arrive in order). */
  async function bHeardA(): Promise<void> {
    const sentinel = randomUUID();
    const heard = new Promise<void>((resolve) => {
      const off = secondDb.changes.subscribe((id) => {
        if (id === sentinel) {
          off();
          resolve();
        }
      });
    });
    await t.db.changes.publish(sentinel);
    await heard;
  }

  it("a public page cached by one instance changes when a video changes through the other", async () => {
    const word = `aurora${randomUUID().slice(0, 8)}`;
    const id = await makeReadyVideo(a.catalog, { title: `${word} before`, ownerId: owner.id });
    await bHeardA();
    const titles = async (i: Instance, url: string) =>
      ((await (await fetch(`${i.base}${url}`)).json()) as { items: { title: string }[] }).items.map((v) => v.title);
    for (const url of [`/api/videos?q=${word}`, "/api/videos?limit=100"]) {
      expect(await titles(b, url)).toContain(`${word} before`);
    }
    // B serves both pages from its cache: a change behind the catalog's back is not seen...
    await secondDb.prisma.$executeRaw`UPDATE "video" SET "title" = ${`${word} behind`} WHERE "id" = ${id}::uuid`;
    expect(await titles(b, `/api/videos?q=${word}`)).toEqual([`${word} before`]);
    expect(await titles(b, "/api/videos?limit=100")).toContain(`${word} before`);
    // ...an edit through A drops every page B holds, and a new public video shows up too.
    const patch = await fetch(`${a.base}/api/videos/${id}`, {
      method: "PATCH",
      headers: { "content-type": "application/json", ...owner.bearer },
      body: JSON.stringify({ title: `${word} after` }),
    });
    expect(patch.status).toBe(200);
    await vi.waitFor(async () => expect(await titles(b, `/api/videos?q=${word}`)).toEqual([`${word} after`]), {
      timeout: 5_000,
      interval: 50,
    });
    expect(await titles(b, "/api/videos?limit=100")).toContain(`${word} after`);
    await makeReadyVideo(a.catalog, { title: `${word} second`, ownerId: owner.id });
    await vi.waitFor(
      async () => expect(await titles(b, `/api/videos?q=${word}`)).toEqual(expect.arrayContaining([`${word} second`])),
      { timeout: 5_000, interval: 50 },
    );
  });

  it("an edit through one instance is seen through the other, which had the video cached", async () => {
    const id = await makeReadyVideo(a.catalog, { title: "Before", ownerId: owner.id });
    // Creating the video announced changes too; let them reach B before it caches the video.
    await bHeardA();
    const read = async (i: Instance) => (await (await fetch(`${i.base}/api/videos/${id}`)).json()).title;
    expect(await read(b)).toBe("Before");
    // B serves from its cache: a change behind the catalog's back (no event) is not seen...
    await secondDb.prisma.$executeRaw`UPDATE "video" SET "title" = 'Behind its back' WHERE "id" = ${id}::uuid`;
    expect(await read(b)).toBe("Before");
    // ...but an edit through A reaches B's cache (LISTEN/NOTIFY) and B reads the new row.
    const patch = await fetch(`${a.base}/api/videos/${id}`, {
      method: "PATCH",
      headers: { "content-type": "application/json", ...owner.bearer },
      body: JSON.stringify({ title: "After" }),
    });
    expect(patch.status).toBe(200);
    await vi.waitFor(async () => expect(await read(b)).toBe("After"), { timeout: 5_000, interval: 50 });
    // Made private through A: B, which has it cached as public, stops showing it to others.
    const hide = await fetch(`${a.base}/api/videos/${id}`, {
      method: "PATCH",
      headers: { "content-type": "application/json", ...owner.bearer },
      body: JSON.stringify({ visibility: "PRIVATE" }),
    });
    expect(hide.status).toBe(200);
    await vi.waitFor(async () => expect((await fetch(`${b.base}/api/videos/${id}`)).status).toBe(404), {
      timeout: 5_000,
      interval: 50,
    });
    // The owner still reads it through B (the session lives in the shared database).
    expect((await fetch(`${b.base}/api/videos/${id}`, { headers: owner.bearer })).status).toBe(200);
    // A delete through A is a 404 through B too.
    expect((await fetch(`${a.base}/api/videos/${id}`, { method: "DELETE", headers: owner.bearer })).status).toBe(204);
    await vi.waitFor(async () => expect((await fetch(`${b.base}/api/videos/${id}`)).status).toBe(404), {
      timeout: 5_000,
      interval: 50,
    });
  });
});
