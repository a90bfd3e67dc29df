import { randomBytes, randomUUID } from "node:crypto";
import path from "node:path";
import { LocalStorage, loadConfig } from "@reelkit/core";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeWith } from "../../../test/engines.js";
import { buildApp } from "../src/app.js";
import { type Catalog, createCatalog } from "../src/catalog/catalog.js";
import { VideoCache } from "../src/catalog/video-cache.js";
import { type Database, openDatabase } from "../src/db/database.js";
import { createTestDatabase, postgresMissing, type TestDatabase } from "../src/db/test-databases.js";
import { MediaSigner } from "../src/media/media-signing.js";
import { TEST_SECRET, testAuth } from "./auth.js";
import { makeReadyVideo, signUp, type TestUser } from "./factories.js";

// `/media` answers small files of READY videos from memory and keeps each video's access state;
// both are dropped on any change to the video, on this instance or another. What is proven here:
// byte-exact answers, ranges and conditional requests on every kind of media file, whether it
// came from storage or from memory; a change (made through the catalog, here or on another
// instance) is served at once; a private video's files never reach a request without a valid
// signature, however they were cached.

interface Instance {
  app: FastifyInstance;
  base: string;
  catalog: Catalog;
  storage: LocalStorage;
}

/** One server instance as the runtime wires it: the database's change feed drives its caches. */
async function startInstance(db: Database, dataDir: string): Promise<Instance> {
  const config = loadConfig({ REELKIT_DATA_DIR: dataDir, REELKIT_LOG_LEVEL: "silent" });
  const catalog = createCatalog(db.prisma, { cache: new VideoCache(), feed: db.changes });
  const storage = new LocalStorage(path.join(dataDir, "media"));
  const app = await buildApp({ config, storage, catalog, auth: testAuth(db.prisma, config) });
  const base = await app.listen({ port: 0, host: "127.0.0.1" });
  return { app, base, catalog, storage };
}

/** Every kind of file a video serves: playlists, init section, segment, images, WebVTT. */
const FILES: Record<string, Buffer> = {
  "hls/master.m3u8": Buffer.from("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n180p/index.m3u8\n"),
  "hls/180p/index.m3u8": Buffer.from('#EXTM3U\n#EXT-X-MAP:URI="init.mp4"\n#EXTINF:2,\nseg-00001.m4s\n'),
  "hls/180p/init.mp4": randomBytes(1500),
  "hls/180p/seg-00001.m4s": randomBytes(300 * 1024 + 17),
  "poster.jpg": randomBytes(20_000),
  "storyboard.jpg": randomBytes(30_000),
  "storyboard.vtt": Buffer.from("WEBVTT\n\n00:00.000 --> 00:02.000\nstoryboard.jpg#xywh=0,0,160,90\n"),
};

async function publish(i: Instance, ownerId: string, title: string): Promise<string> {
  const id = await makeReadyVideo(i.catalog, { title, ownerId });
  for (const [f, body] of Object.entries(FILES)) await i.storage.put(`videos/${id}/${f}`, body);
  return id;
}

async function setVisibility(i: Instance, owner: TestUser, id: string, visibility: string): Promise<void> {
  const res = await fetch(`${i.base}/api/videos/${id}`, {
    method: "PATCH",
    headers: { ...owner.bearer, "content-type": "application/json" },
    body: JSON.stringify({ visibility }),
  });
  expect(res.status).toBe(200);
}

async function get(url: string, headers: Record<string, string> = {}, method = "GET") {
  const res = await fetch(url, { method, headers });
  return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
}

/** Full, HEAD, ranges and conditional requests of one file, checked against its bytes. */
async function expectHttpSemantics(url: string, bytes: Buffer): Promise<void> {
  const full = await get(url);
  expect(full.status).toBe(200);
  expect(full.body.equals(bytes)).toBe(true);
  expect(full.headers.get("accept-ranges")).toBe("bytes");
  const etag = full.headers.get("etag") as string;
  const lastModified = full.headers.get("last-modified") as string;
  expect(etag).toMatch(/^"[^"]+"$/);
  expect(lastModified).toBeTruthy();

  const head = await get(url, {}, "HEAD");
  expect(head.status).toBe(200);
  expect(head.body.length).toBe(0);
  expect(Number(head.headers.get("content-length"))).toBe(bytes.length);
  expect(head.headers.get("etag")).toBe(etag);

  const mid = await get(url, { range: "bytes=3-9" });
  expect(mid.status).toBe(206);
  expect(mid.headers.get("content-range")).toBe(`bytes 3-9/${bytes.length}`);
  expect(mid.body.equals(bytes.subarray(3, 10))).toBe(true);
  const suffix = await get(url, { range: "bytes=-5" });
  expect(suffix.status).toBe(206);
  expect(suffix.body.equals(bytes.subarray(bytes.length - 5))).toBe(true);
  const open = await get(url, { range: `bytes=${bytes.length - 4}-` });
  expect(open.body.equals(bytes.subarray(bytes.length - 4))).toBe(true);
  const beyond = await get(url, { range: `bytes=${bytes.length}-` });
  expect(beyond.status).toBe(416);
  expect(beyond.headers.get("content-range")).toBe(`bytes */${bytes.length}`);

  for (const conditional of [{ "if-none-match": etag }, { "if-none-match": `W/${etag}, "other"` }]) {
    const res = await get(url, conditional);
    expect(res.status).toBe(304);
    expect(res.body.length).toBe(0);
    expect(res.headers.get("etag")).toBe(etag);
  }
  expect((await get(url, { "if-modified-since": lastModified })).status).toBe(304);
  // If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2).
  expect((await get(url, { "if-none-match": '"other"', "if-modified-since": lastModified })).status).toBe(200);
  const older = new Date(Date.parse(lastModified) - 60_000).toUTCString();
  expect((await get(url, { "if-modified-since": older })).status).toBe(200);

  const sameRange = await get(url, { range: "bytes=0-1", "if-range": etag });
  expect(sameRange.status).toBe(206);
  expect(sameRange.body.equals(bytes.subarray(0, 2))).toBe(true);
  // A client holding another version gets the whole current file, not a piece of it.
  const otherRange = await get(url, { range: "bytes=0-1", "if-range": '"another-version"' });
  expect(otherRange.status).toBe(200);
  expect(otherRange.body.equals(bytes)).toBe(true);
}

describe("/media from memory (embedded database)", () => {
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

  it("answers every kind of file byte-exact, with HEAD, ranges and conditional requests, from storage and from memory", async () => {
    const id = await publish(one, owner.id, "Semantics");
    for (const [f, bytes] of Object.entries(FILES)) {
      // The first round reads storage (and fills the memory), the second is answered from memory.
      for (let round = 0; round < 2; round++) await expectHttpSemantics(`${one.base}/media/videos/${id}/${f}`, bytes);
    }
  });

  it("keeps a READY video's small files until the video changes, then serves the new ones", async () => {
    const id = await publish(one, owner.id, "Held");
    const playlist = `${one.base}/media/videos/${id}/hls/180p/index.m3u8`;
    const poster = `${one.base}/media/videos/${id}/poster.jpg`;
    expect((await get(playlist)).body.equals(FILES["hls/180p/index.m3u8"] as Buffer)).toBe(true);
    expect((await get(poster)).body.equals(FILES["poster.jpg"] as Buffer)).toBe(true);
    // Rewritten behind the catalog's back: the memory still answers (proof that it is memory).
    const newPlaylist = Buffer.from("#EXTM3U\n# rewritten\n");
    const newPoster = randomBytes(999);
    await one.storage.put(`videos/${id}/hls/180p/index.m3u8`, newPlaylist);
    await one.storage.put(`videos/${id}/poster.jpg`, newPoster);
    expect((await get(playlist)).body.equals(FILES["hls/180p/index.m3u8"] as Buffer)).toBe(true);
    // Any change to the video drops what is held of it.
    const res = await fetch(`${one.base}/api/videos/${id}`, {
      method: "PATCH",
      headers: { ...owner.bearer, "content-type": "application/json" },
      body: JSON.stringify({ title: "Held, renamed" }),
    });
    expect(res.status).toBe(200);
    expect((await get(playlist)).body.equals(newPlaylist)).toBe(true);
    const posterNow = await get(poster);
    expect(posterNow.body.equals(newPoster)).toBe(true);
    expect(Number(posterNow.headers.get("content-length"))).toBe(newPoster.length);
  });

  it("never serves a private video's cached files without a valid signature", async () => {
    const id = await publish(one, owner.id, "Private");
    await setVisibility(one, owner, id, "PRIVATE");
    const signer = new MediaSigner(TEST_SECRET, 60);
    const token = signer.token(id);
    for (const f of Object.keys(FILES)) {
      const signed = `${one.base}/media/s/${token}/videos/${id}/${f}`;
      // Twice: the second answer comes from memory.
      for (let round = 0; round < 2; round++) {
        const res = await get(signed);
        expect(res.status).toBe(200);
        expect(res.body.equals(FILES[f] as Buffer)).toBe(true);
        expect(res.headers.get("cache-control")).toMatch(/^private/);
      }
      expect((await get(`${one.base}/media/videos/${id}/${f}`)).status).toBe(404);
      expect((await get(`${one.base}/media/videos/${id}/${f}`, { "if-none-match": "*" })).status).toBe(404);
      const expired = new MediaSigner(TEST_SECRET, 60, () => Date.now() - 3_600_000).token(id);
      const tampered = `${token.slice(0, -2)}${token.endsWith("AA") ? "BB" : "AA"}`;
      const otherVideo = signer.token(randomUUID());
      const foreign = new MediaSigner("another secret entirely, 32+ chars", 60).token(id);
      for (const bad of [expired, tampered, otherVideo, foreign]) {
        const res = await get(`${one.base}/media/s/${bad}/videos/${id}/${f}`);
        expect(res.status).toBe(403);
        expect(res.body.toString()).not.toContain(FILES[f]?.subarray(0, 8).toString("latin1"));
      }
    }
  });

  it("stops serving a public video's cached files unsigned the moment it becomes private", async () => {
    const id = await publish(one, owner.id, "Going private");
    const urls = Object.keys(FILES).map((f) => `${one.base}/media/videos/${id}/${f}`);
    for (const url of urls) expect((await get(url)).status).toBe(200);
    await setVisibility(one, owner, id, "PRIVATE");
    for (const url of urls) expect((await get(url)).status).toBe(404);
  });
});

describeWith("postgres", postgresMissing, "/media from memory across two server instances (PostgreSQL)", () => {
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

  it("a change made through one instance drops what the other holds: new bytes, and private at once", async () => {
    const id = await publish(a, owner.id, "Two instances");
    await bHeardA();
    const playlist = `${b.base}/media/videos/${id}/hls/180p/index.m3u8`;
    const poster = `${b.base}/media/videos/${id}/poster.jpg`;
    expect((await get(playlist)).status).toBe(200);
    expect((await get(poster)).status).toBe(200);
    const newPlaylist = Buffer.from("#EXTM3U\n# from A\n");
    await a.storage.put(`videos/${id}/hls/180p/index.m3u8`, newPlaylist);
    // B holds the old bytes until it hears of a change.
    expect((await get(playlist)).body.equals(FILES["hls/180p/index.m3u8"] as Buffer)).toBe(true);
    await setVisibility(a, owner, id, "PRIVATE");
    await bHeardA();
    expect((await get(playlist)).status).toBe(404);
    expect((await get(poster)).status).toBe(404);
    const token = new MediaSigner(TEST_SECRET, 60).token(id);
    const signed = await get(`${b.base}/media/s/${token}/videos/${id}/hls/180p/index.m3u8`);
    expect(signed.status).toBe(200);
    expect(signed.body.equals(newPlaylist)).toBe(true);
  });
});
