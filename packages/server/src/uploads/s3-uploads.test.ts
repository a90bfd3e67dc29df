import { createHash, randomBytes } from "node:crypto";
import { buffer } from "node:stream/consumers";
import {
  AbortMultipartUploadCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { keys, loadConfig } from "@reelkit/core";
import { s3ClientConfig } from "@reelkit/core/s3";
import { S3Store } from "@tus/s3-store";
import type { FastifyInstance } from "fastify";
import { afterAll, afterEach, beforeAll, beforeEach, expect, it, vi } from "vitest";
import { describeWith, s3TestEngine } from "../../../../test/engines.js";
import { createTestBucket, type TestBucket } from "../../../../test/s3.js";
import { testAuth } from "../../test/auth.js";
import { recordingCatalog, signUp, type TestUser } from "../../test/factories.js";
import { tusUpload } from "../../test/tus-upload.js";
import { buildApp } from "../app.js";
import type { Catalog } from "../catalog/catalog.js";
import { createTestDatabase, type TestDatabase } from "../db/test-databases.js";
import { partSizeFor } from "./s3-upload-store.js";
import { failTokenExpiredUploads, UPLOAD_TOKEN_EXPIRED_REASON } from "./upload-completion.js";
import type { UploadCatalog } from "./upload-routes.js";
import { createUploadBackend } from "./upload-store.js";

const { engine, missing } = s3TestEngine();
const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const MiB = 1024 * 1024;

it("sizes parts so that 10,000 of them hold the largest upload", () => {
  expect(partSizeFor(10 * 1024 ** 3)).toBe(8 * MiB);
  expect(partSizeFor(200 * 1024 ** 3)).toBe(21 * MiB);
  expect(partSizeFor(5 * 1024 ** 4) * 10_000).toBeGreaterThanOrEqual(5 * 1024 ** 4);
});

describeWith("s3", missing, "tus uploads into S3 (@tus/s3-store)", () => {
  let bucket: TestBucket;
  let app: FastifyInstance | undefined;
  // Accounts in a real database for the whole suite; the catalog is the recorder.
  let accounts: TestDatabase;
  let user: TestUser | undefined;
  const TUS = (): Record<string, string> => ({ "Tus-Resumable": "1.0.0", ...user?.bearer });

  beforeAll(async () => {
    accounts = await createTestDatabase("embedded");
  }, 180_000);
  afterAll(async () => {
    await accounts?.dispose();
  });

  async function start(catalog: UploadCatalog, env: Record<string, string> = {}): Promise<string> {
    const config = loadConfig({ REELKIT_LOG_LEVEL: "silent", ...bucket.env, ...env });
    app = await buildApp({
      config,
      storage: bucket.storage,
      // Only the upload routes are exercised: the recorder stands in for the upload lifecycle.
      catalog: { uploads: catalog } as unknown as Catalog,
      auth: testAuth(accounts.db.prisma, config),
    });
    const base = await app.listen({ port: 0, host: "127.0.0.1" });
    user ??= await signUp(base);
    return base;
  }
  const multipartUploads = async () =>
    (await bucket.client.send(new ListMultipartUploadsCommand({ Bucket: bucket.name }))).Uploads ?? [];
  /**
   * Turns a new upload (nothing written yet) into what an earlier version stored: its multipart
   * upload under the tus id, and `.info` saying so.
   */
  async function beginUnderTusId(videoId: string): Promise<void> {
    const tusId = keys.upload(videoId);
    for (const made of (await multipartUploads()).filter((u) => u.Key === keys.source(videoId))) {
      await bucket.client.send(
        new AbortMultipartUploadCommand({ Bucket: bucket.name, Key: made.Key, UploadId: made.UploadId }),
      );
    }
    const legacy = await bucket.client.send(new CreateMultipartUploadCommand({ Bucket: bucket.name, Key: tusId }));
    const plain = new S3Store({ s3ClientConfig: { ...s3ClientConfig(bucket.config), bucket: bucket.name } });
    const internals = plain as unknown as {
      getMetadata(id: string): Promise<{ file: Record<string, unknown> }>;
      saveMetadata(file: unknown, uploadId: string): Promise<void>;
    };
    const stored = await internals.getMetadata(tusId);
    await internals.saveMetadata(
      { ...stored.file, storage: { type: "s3", path: tusId, bucket: bucket.name } },
      legacy.UploadId as string,
    );
  }

  beforeEach(async () => {
    bucket = await createTestBucket(engine as NonNullable<typeof engine>);
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
    await bucket.drop();
  });

  it("stores a chunked upload byte-exact as the video's source and leaves no tus objects", async () => {
    const rec = recordingCatalog();
    const base = await start(rec.catalog);
    // 3 MiB chunks: every PATCH ends inside a part, so the store carries incomplete parts over.
    const data = randomBytes(19 * MiB + 4321);
    const { videoId } = await tusUpload(base, data, { filename: "harbour.mp4" }, 3 * MiB, user?.bearer);
    const id = videoId as string;
    expect(rec.finished).toEqual([{ videoId: id, sourceKey: keys.source(id), sourceSize: data.length }]);
    expect(sha256(await buffer(await bucket.storage.get(keys.source(id))))).toBe(sha256(data));
    await vi.waitFor(async () => expect((await bucket.storage.list("uploads/")).map((o) => o.key)).toEqual([]));
    expect(await multipartUploads()).toEqual([]);
  });

  it("completes the multipart upload at the source key itself: no copy of the file afterwards", async () => {
    const rec = recordingCatalog();
    const base = await start(rec.catalog);
    const data = randomBytes(17 * MiB + 99);
    const created = await fetch(`${base}/api/uploads`, {
      method: "POST",
      headers: { ...TUS(), "Upload-Length": String(data.length), "Content-Type": "application/offset+octet-stream" },
      body: new Uint8Array(data.subarray(0, 9 * MiB)),
    });
    expect(created.status).toBe(201);
    const id = created.headers.get("reelkit-video-id") as string;
    // Mid-upload: the multipart upload is at the source key; nothing is visible there yet.
    expect((await multipartUploads()).map((u) => u.Key)).toEqual([keys.source(id)]);
    expect(await bucket.storage.stat(keys.source(id))).toBeNull();
    const rest = await fetch(new URL(created.headers.get("location") as string, base), {
      method: "PATCH",
      headers: { ...TUS(), "Upload-Offset": String(9 * MiB), "Content-Type": "application/offset+octet-stream" },
      body: new Uint8Array(data.subarray(9 * MiB)),
    });
    expect(rest.status).toBe(204);
    expect(rec.finished).toEqual([{ videoId: id, sourceKey: keys.source(id), sourceSize: data.length }]);
    expect(sha256(await buffer(await bucket.storage.get(keys.source(id))))).toBe(sha256(data));
    // The ETag of a completed multipart upload names its parts ("…-3"); a copy's would not.
    const head = await bucket.client.send(new HeadObjectCommand({ Bucket: bucket.name, Key: keys.source(id) }));
    expect(head.ETag).toMatch(/-3"?$/);
  });

  it("finishes an upload begun under its tus id (an earlier layout) by copying it to the source", async () => {
    const rec = recordingCatalog();
    const base = await start(rec.catalog);
    const data = randomBytes(11 * MiB + 3);
    const created = await fetch(`${base}/api/uploads`, {
      method: "POST",
      headers: { ...TUS(), "Upload-Length": String(data.length) },
    });
    const id = created.headers.get("reelkit-video-id") as string;
    await beginUnderTusId(id);
    const patched = await fetch(new URL(created.headers.get("location") as string, base), {
      method: "PATCH",
      headers: { ...TUS(), "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream" },
      body: new Uint8Array(data),
    });
    expect(patched.status).toBe(204);
    expect(rec.finished.map((f) => f.videoId)).toEqual([id]);
    expect(sha256(await buffer(await bucket.storage.get(keys.source(id))))).toBe(sha256(data));
    expect(await multipartUploads()).toEqual([]);
  });

  it("expires unfinished uploads: their multipart uploads (at the source key or, begun earlier, under the tus id) and `.info` go", async () => {
    const rec = recordingCatalog();
    const base = await start(rec.catalog);
    const created = await fetch(`${base}/api/uploads`, {
      method: "POST",
      headers: { ...TUS(), "Upload-Length": String(20 * MiB), "Content-Type": "application/offset+octet-stream" },
      body: new Uint8Array(randomBytes(MiB)),
    });
    const id = created.headers.get("reelkit-video-id") as string;
    expect((await bucket.storage.list("uploads/")).map((o) => o.key).sort()).toEqual(
      [`${keys.upload(id)}.info`, `${keys.upload(id)}.part`].sort(),
    );
    // And one begun before this layout, under its tus id.
    const older = await fetch(`${base}/api/uploads`, {
      method: "POST",
      headers: { ...TUS(), "Upload-Length": String(20 * MiB) },
    });
    const olderId = older.headers.get("reelkit-video-id") as string;
    await beginUnderTusId(olderId);
    const backend = await createUploadBackend({
      config: loadConfig({ REELKIT_LOG_LEVEL: "silent", ...bucket.env, REELKIT_UPLOAD_EXPIRY: "1" }),
      storage: bucket.storage,
    });
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await backend.datastore.deleteExpired()).toBe(4);
    expect(await multipartUploads()).toEqual([]);
    expect((await bucket.storage.list("uploads/")).map((o) => o.key)).toEqual([]);
  });

  it("resumes from the first missing part when a crash left a later part stored: byte-exact, not a hole", async () => {
    const rec = recordingCatalog();
    const base = await start(rec.catalog);
    const part = 8 * MiB;
    const data = randomBytes(4 * part + 100);
    const created = await fetch(`${base}/api/uploads`, {
      method: "POST",
      headers: { ...TUS(), "Upload-Length": String(data.length) },
    });
    const id = created.headers.get("reelkit-video-id") as string;
    const url = new URL(created.headers.get("location") as string, base);
    // What a SIGKILL mid-request can leave: the request's parts went up in parallel, and part 3
    // never finished while part 4 did.
    const [multipart] = await multipartUploads();
    for (const n of [1, 2, 4]) {
      await bucket.client.send(
        new UploadPartCommand({
          Bucket: bucket.name,
          Key: multipart?.Key,
          UploadId: multipart?.UploadId,
          PartNumber: n,
          Body: data.subarray((n - 1) * part, n * part),
        }),
      );
    }
    const head = await fetch(url, { method: "HEAD", headers: TUS() });
    expect(head.headers.get("upload-offset")).toBe(String(2 * part));
    const rest = await fetch(url, {
      method: "PATCH",
      headers: { ...TUS(), "Upload-Offset": String(2 * part), "Content-Type": "application/offset+octet-stream" },
      body: new Uint8Array(data.subarray(2 * part)),
    });
    expect(rest.status).toBe(204);
    expect(rec.finished.map((f) => f.videoId)).toEqual([id]);
    expect(sha256(await buffer(await bucket.storage.get(keys.source(id))))).toBe(sha256(data));
  });

  it("resumes from the stored offset after a server restart", async () => {
    const rec = recordingCatalog();
    let base = await start(rec.catalog);
    const data = randomBytes(12 * MiB + 17);
    const created = await fetch(`${base}/api/uploads`, {
      method: "POST",
      headers: { ...TUS(), "Upload-Length": String(data.length) },
    });
    expect(created.status).toBe(201);
    const location = created.headers.get("location") as string;
    const id = created.headers.get("reelkit-video-id") as string;
    expect(location).toBe(`/api/uploads/${id}`);
    const patch = (b: string, offset: number, body: Buffer) =>
      fetch(new URL(location, b), {
        method: "PATCH",
        headers: {
          ...TUS(),
          "Upload-Offset": String(offset),
          "Content-Type": "application/offset+octet-stream",
        },
        body: new Uint8Array(body),
      });
    const first = 9 * MiB + 5; // one whole part plus an incomplete one
    expect((await patch(base, 0, data.subarray(0, first))).status).toBe(204);
    await app?.close();
    base = await start(rec.catalog);
    const head = await fetch(new URL(location, base), { method: "HEAD", headers: TUS() });
    expect(head.status).toBe(200);
    expect(head.headers.get("upload-offset")).toBe(String(first));
    expect(head.headers.get("upload-length")).toBe(String(data.length));
    expect(rec.finished).toEqual([]);
    const rest = await patch(base, first, data.subarray(first));
    expect(rest.status).toBe(204);
    expect(rest.headers.get("upload-offset")).toBe(String(data.length));
    expect(rec.finished.map((f) => f.videoId)).toEqual([id]);
    expect(sha256(await buffer(await bucket.storage.get(keys.source(id))))).toBe(sha256(data));
  });

  it("terminates an upload with DELETE: its multipart upload and objects are gone", async () => {
    const rec = recordingCatalog();
    const base = await start(rec.catalog);
    const res = await fetch(`${base}/api/uploads`, {
      method: "POST",
      headers: {
        ...TUS(),
        "Upload-Length": String(20 * MiB),
        "Content-Type": "application/offset+octet-stream",
      },
      body: new Uint8Array(randomBytes(6 * MiB)),
    });
    expect(res.status).toBe(201);
    expect(await multipartUploads()).toHaveLength(1);
    const url = new URL(res.headers.get("location") as string, base);
    const del = await fetch(url, { method: "DELETE", headers: TUS() });
    expect(del.status).toBe(204);
    const head = await fetch(url, { method: "HEAD", headers: TUS() });
    expect([404, 410]).toContain(head.status);
    await vi.waitFor(() => expect(rec.cancelled).toEqual([res.headers.get("reelkit-video-id")]));
    expect(await multipartUploads()).toEqual([]);
    expect((await bucket.storage.list("uploads/")).map((o) => o.key)).toEqual([]);
  });

  it("discards the multipart upload of a video whose upload token expired, and fails the video", async () => {
    const rec = recordingCatalog();
    const base = await start(rec.catalog);
    const res = await fetch(`${base}/api/uploads`, {
      method: "POST",
      headers: { ...TUS(), "Upload-Length": String(20 * MiB), "Content-Type": "application/offset+octet-stream" },
      body: new Uint8Array(randomBytes(6 * MiB)),
    });
    expect(res.status).toBe(201);
    const id = res.headers.get("reelkit-video-id") as string;
    expect(await multipartUploads()).toHaveLength(1);
    const backend = await createUploadBackend({
      config: loadConfig({ REELKIT_LOG_LEVEL: "silent", ...bucket.env }),
      storage: bucket.storage,
    });
    // The recorder knows no tokens: this video's is the one that expired.
    const catalog = {
      ...rec.catalog,
      listTokenExpiredUploads: async () =>
        (await rec.catalog.listUploading()).filter((v) => v.id === id).map((v) => ({ id: v.id, uploadId: v.uploadId })),
    };
    const sweep = (settledBefore: Date) =>
      failTokenExpiredUploads({
        uploads: backend.uploads,
        storage: bucket.storage,
        catalog,
        discard: (uploadId) => backend.discard(uploadId),
        settledBefore,
      });
    expect(await sweep(new Date(Date.now() + 1))).toEqual([id]);
    expect(rec.failed).toEqual([{ videoId: id, reason: UPLOAD_TOKEN_EXPIRED_REASON }]);
    expect(await multipartUploads()).toEqual([]);
    expect((await bucket.storage.list("uploads/")).map((o) => o.key)).toEqual([]);
    expect(await sweep(new Date(Date.now() + 1))).toEqual([]);
  });

  it("answers 404 for upload ids the server never issued, 400 for what cannot be one", async () => {
    const base = await start(recordingCatalog().catalog);
    const head = (id: string) => fetch(`${base}/api/uploads/${id}`, { method: "HEAD", headers: TUS() });
    expect([404, 410]).toContain((await head("0b6c2f8e-2f39-4d0e-9a59-3c5d8a0d9f10")).status);
    // Side files of the store and encoded paths are never an upload's URL.
    for (const id of ["..%2Fvideos", "a.info", "a.part"]) expect((await head(id)).status).toBe(400);
  });
});
