import { randomUUID } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { type Config, keys, LocalStorage, loadConfig } from "@reelkit/core";
import type { FastifyInstance } from "fastify";
import * as tus from "tus-js-client";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { testAuth } from "../../test/auth.js";
import { signUp, type TestUser } from "../../test/factories.js";
import { buildApp } from "../app.js";
import { type Catalog, createCatalog, type FinishUploadInput } from "../catalog/catalog.js";
import { createTestDatabase, type TestDatabase } from "../db/test-databases.js";
import { failExpiredUploads, finishInterruptedUploads, UPLOAD_EXPIRED_REASON } from "./upload-completion.js";

/** The real catalog, except that the process "dies" right before the upload is queued. */
function crashBeforeQueueCatalog(prisma: TestDatabase["db"]["prisma"]): Catalog {
  const catalog = createCatalog(prisma);
  catalog.uploads.finishUpload = async (_videoId: string, _input: FinishUploadInput): Promise<never> => {
    throw new Error("simulated crash between linking the source and queueing the video");
  };
  return catalog;
}

let tdb: TestDatabase;
let storage: LocalStorage;
let config: Config;
let app: FastifyInstance | undefined;
let user: TestUser | undefined;

async function start(catalog: Catalog): Promise<string> {
  app = await buildApp({ config, storage, catalog, auth: testAuth(tdb.db.prisma, config) });
  const base = await app.listen({ port: 0, host: "127.0.0.1" });
  user = await signUp(base);
  return base;
}

async function restart(): Promise<void> {
  await app?.close();
  app = await buildApp({
    config,
    storage,
    catalog: createCatalog(tdb.db.prisma),
    auth: testAuth(tdb.db.prisma, config),
  });
  await app.ready();
}

/** Sends the whole file; resolves with the video id and whether the client saw success. */
function upload(base: string, data: Buffer, uploadSize?: number): Promise<{ videoId: string; ok: boolean }> {
  let videoId: string | null = null;
  return new Promise((resolve, reject) => {
    new tus.Upload(data, {
      endpoint: `${base}/api/uploads`,
      chunkSize: 64 * 1024,
      retryDelays: [],
      headers: user?.bearer,
      uploadSize,
      metadata: { filename: "clip.mp4", title: "Crash window" },
      onAfterResponse: (req, res) => {
        if (req.getMethod() === "POST") videoId = res.getHeader("Reelkit-Video-Id") ?? null;
      },
      onError: () => (videoId ? resolve({ videoId, ok: false }) : reject(new Error("no video id"))),
      onSuccess: () => (videoId ? resolve({ videoId, ok: true }) : reject(new Error("no video id"))),
    }).start();
  });
}

/** The video's transcode jobs in the outbox (its webhook events, `video.event`, aside). */
const outboxRows = (id: string) => tdb.db.prisma.outbox.findMany({ where: { key: id, topic: "video.uploaded" } });
const statusOf = async (id: string) => (await tdb.db.prisma.video.findUniqueOrThrow({ where: { id } })).status;

beforeEach(async () => {
  tdb = await createTestDatabase("embedded");
  storage = new LocalStorage(path.join(tdb.dataDir, "media"));
  config = loadConfig({ REELKIT_DATA_DIR: tdb.dataDir, REELKIT_LOG_LEVEL: "silent" });
}, 60_000);
afterEach(async () => {
  await app?.close();
  app = undefined;
  await tdb?.dispose();
});

describe("start-up sweep of uploads interrupted before they were queued", () => {
  it("queues a complete upload whose process died after linking its source, exactly once", async () => {
    const data = Buffer.alloc(200_000, 7);
    const base = await start(crashBeforeQueueCatalog(tdb.db.prisma));
    const { videoId, ok } = await upload(base, data);
    // The crash window: every byte stored and linked, the video still UPLOADING, no event.
    expect(ok).toBe(false);
    expect(await statusOf(videoId)).toBe("UPLOADING");
    expect((await storage.stat(keys.source(videoId)))?.size).toBe(data.length);
    expect((await storage.stat(keys.upload(videoId)))?.size).toBe(data.length);
    expect(await outboxRows(videoId)).toEqual([]);

    // The periodic sweep leaves an upload written after its cut-off alone (it may be finishing).
    const catalog = createCatalog(tdb.db.prisma);
    const uploads = { getUpload: async () => ({ offset: data.length, size: data.length }) };
    expect(
      await finishInterruptedUploads({ uploads, storage, catalog: catalog.uploads, settledBefore: new Date(0) }),
    ).toEqual([]);
    expect(await statusOf(videoId)).toBe("UPLOADING");

    await restart();
    const video = await tdb.db.prisma.video.findUniqueOrThrow({ where: { id: videoId } });
    expect(video).toMatchObject({ status: "QUEUED", attempt: 1, sourceKey: keys.source(videoId) });
    expect(Number(video.sourceSize)).toBe(data.length);
    const rows = await outboxRows(videoId);
    expect(rows.map((r) => [r.topic, r.payload])).toEqual([
      ["video.uploaded", { videoId, attempt: 1, sourceKey: keys.source(videoId), ownerId: expect.any(String) }],
    ]);
    expect(await fs.readFile(storage.localPath(keys.source(videoId)))).toEqual(data);
    // The tus upload stays until it expires, as after a normal finish: a client whose last
    // response was lost learns from HEAD that it is complete.
    expect((await storage.stat(keys.upload(videoId)))?.size).toBe(data.length);

    await restart();
    expect(await outboxRows(videoId)).toHaveLength(1);
    expect(await statusOf(videoId)).toBe("QUEUED");
  });

  it("queues an UPLOADING video whose source is already in storage when the tus upload is gone", async () => {
    const catalog = createCatalog(tdb.db.prisma);
    const videoId = randomUUID();
    await catalog.uploads.createForUpload({ videoId, uploadId: videoId, title: "t", description: "", filename: null });
    await storage.put(keys.source(videoId), Buffer.alloc(1234, 1));
    await restart();
    const video = await tdb.db.prisma.video.findUniqueOrThrow({ where: { id: videoId } });
    expect(video.status).toBe("QUEUED");
    expect(Number(video.sourceSize)).toBe(1234);
    expect(await outboxRows(videoId)).toHaveLength(1);
  });

  it("leaves unfinished uploads resumable and untouched", async () => {
    const base = await start(createCatalog(tdb.db.prisma));
    // Announce more bytes than are sent: the upload stops half-way.
    const { videoId, ok } = await upload(base, Buffer.alloc(100_000, 3), 200_000);
    expect(ok).toBe(false);
    const partial = (await storage.stat(keys.upload(videoId)))?.size ?? 0;
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(200_000);
    const stillUploading = randomUUID();
    await createCatalog(tdb.db.prisma).uploads.createForUpload({
      videoId: stillUploading,
      uploadId: stillUploading,
      title: "no bytes yet",
      description: "",
      filename: null,
    });
    await restart();
    expect(await statusOf(videoId)).toBe("UPLOADING");
    expect(await statusOf(stillUploading)).toBe("UPLOADING");
    expect(await storage.stat(keys.source(videoId))).toBeNull();
    expect((await storage.stat(keys.upload(videoId)))?.size).toBe(partial);
    expect(await outboxRows(videoId)).toEqual([]);
  });
});

describe("uploads that can no longer finish", () => {
  it("removes the video of an upload its client cancelled (tus DELETE)", async () => {
    const base = await start(createCatalog(tdb.db.prisma));
    const res = await fetch(`${base}/api/uploads`, {
      method: "POST",
      headers: { "Tus-Resumable": "1.0.0", ...user?.bearer, "Upload-Length": "100" },
    });
    const id = res.headers.get("reelkit-video-id") as string;
    expect(await statusOf(id)).toBe("UPLOADING");
    const url = new URL(res.headers.get("location") as string, base);
    expect(
      (await fetch(url, { method: "DELETE", headers: { "Tus-Resumable": "1.0.0", ...user?.bearer } })).status,
    ).toBe(204);
    await vi.waitFor(async () => expect(await tdb.db.prisma.video.findUnique({ where: { id } })).toBeNull());
  });

  it("fails UPLOADING videos whose upload expired, and only those", async () => {
    const catalog = createCatalog(tdb.db.prisma);
    const make = async () => {
      const id = randomUUID();
      await catalog.uploads.createForUpload({ videoId: id, uploadId: id, title: "t", description: "", filename: null });
      return id;
    };
    const expired = await make();
    const queued = await make();
    await catalog.uploads.finishUpload(queued, { sourceKey: keys.source(queued), sourceSize: 1 });
    const withSource = await make();
    await storage.put(keys.source(withSource), "x");
    const datastore = { getUpload: async () => Promise.reject(new Error("gone")), remove: async () => {} };

    // Not yet past the expiry period: untouched.
    const early = await failExpiredUploads({
      uploads: datastore,
      storage,
      catalog: catalog.uploads,
      createdBefore: new Date(0),
    });
    expect(early).toEqual([]);
    const late = new Date(Date.now() + 1000);
    expect(
      await failExpiredUploads({ uploads: datastore, storage, catalog: catalog.uploads, createdBefore: late }),
    ).toEqual([expired]);
    const video = await tdb.db.prisma.video.findUniqueOrThrow({ where: { id: expired } });
    expect(video).toMatchObject({ status: "FAILED", failureReason: UPLOAD_EXPIRED_REASON });
    expect(await statusOf(queued)).toBe("QUEUED");
    expect(await statusOf(withSource)).toBe("UPLOADING");
  });
});
