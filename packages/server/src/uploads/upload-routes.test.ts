import fs from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { type Config, keys, LocalStorage, loadConfig } from "@reelkit/core";
import type { FastifyInstance } from "fastify";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { testAuth } from "../../test/auth.js";
import { recordingCatalog, signUp, type TestUser } from "../../test/factories.js";
import { tusUpload } from "../../test/tus-upload.js";
import { buildApp } from "../app.js";
import type { CatalogService } from "../catalog/catalog-service.js";
import { createTestDatabase, type TestDatabase } from "../db/test-databases.js";
import { UPLOAD_EXPIRED_REASON } from "./upload-completion.js";
import type { UploadCatalog } from "./upload-routes.js";

let dir: string;
let storage: LocalStorage;
let app: FastifyInstance | undefined;
// Accounts live in a real database for the whole file; the catalog is the recorder above.
let accounts: TestDatabase;
let user: TestUser | undefined;

/** The uploading user's bearer header (signed up on the first start). */
const auth = (): Record<string, string> => user?.bearer ?? {};

async function start(env: Record<string, string>, catalog: UploadCatalog): Promise<string> {
  const config: Config = loadConfig({ REELKIT_DATA_DIR: dir, REELKIT_LOG_LEVEL: "silent", ...env });
  // Only the upload flow is exercised here; the video routes never see this recorder.
  app = await buildApp({
    config,
    storage,
    catalog: catalog as unknown as CatalogService,
    auth: testAuth(accounts.db.prisma, config),
  });
  const base = await app.listen({ port: 0, host: "127.0.0.1" });
  user ??= await signUp(base);
  return base;
}

beforeAll(async () => {
  accounts = await createTestDatabase("embedded");
}, 60_000);
afterAll(async () => {
  await accounts?.dispose();
});

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "reelkit-uploads-"));
  storage = new LocalStorage(path.join(dir, "media"));
});
afterEach(async () => {
  await app?.close();
  app = undefined;
  await fs.rm(dir, { recursive: true, force: true });
});

function upload(base: string, data: Buffer, metadata: Record<string, string>, chunkSize = 64 * 1024) {
  return tusUpload(base, data, metadata, chunkSize, auth());
}

describe("tus uploads", () => {
  it("creates the video on creation, moves the file to its source key and finishes it", async () => {
    const rec = recordingCatalog();
    const base = await start({}, rec.catalog);
    const data = Buffer.alloc(200_000, 7);
    const { videoId } = await upload(base, data, { filename: "cats.mp4", description: "Two cats" });
    expect(videoId).toMatch(/^[0-9a-f-]{36}$/);
    expect(rec.created).toEqual([
      {
        videoId,
        uploadId: videoId,
        title: "cats",
        description: "Two cats",
        filename: "cats.mp4",
        ownerId: user?.id,
        uploadTokenId: null,
      },
    ]);
    expect(rec.finished).toEqual([{ videoId, sourceKey: keys.source(videoId as string), sourceSize: 200_000 }]);
    const stored = await fs.readFile(storage.localPath(keys.source(videoId as string)));
    expect(stored.equals(data)).toBe(true);
    // The upload's own file is removed once the response is written.
    await vi.waitFor(async () => expect(await storage.stat(keys.upload(videoId as string))).toBeNull());
  });

  it("supports creation-with-upload and uses the title from metadata", async () => {
    const rec = recordingCatalog();
    const base = await start({}, rec.catalog);
    const res = await fetch(`${base}/api/uploads`, {
      method: "POST",
      headers: {
        "Tus-Resumable": "1.0.0",
        ...auth(),
        "Upload-Length": "5",
        "Upload-Metadata": `title ${Buffer.from("My title").toString("base64")}`,
        "Content-Type": "application/offset+octet-stream",
      },
      body: "hello",
    });
    expect(res.status).toBe(201);
    expect(res.headers.get("upload-offset")).toBe("5");
    const id = res.headers.get("reelkit-video-id") as string;
    expect(rec.created[0]?.title).toBe("My title");
    expect(rec.finished).toEqual([{ videoId: id, sourceKey: keys.source(id), sourceSize: 5 }]);
  });

  it("drops NUL from Upload-Metadata text (PostgreSQL text cannot hold it)", async () => {
    const rec = recordingCatalog();
    const base = await start({}, rec.catalog);
    const b64 = (s: string) => Buffer.from(s).toString("base64");
    const res = await fetch(`${base}/api/uploads`, {
      method: "POST",
      headers: {
        "Tus-Resumable": "1.0.0",
        ...auth(),
        "Upload-Length": "5",
        "Upload-Metadata": `title ${b64("Beach\u0000 day")},description ${b64("\u0000waves")},filename ${b64("a\u0000.mp4")}`,
      },
    });
    expect(res.status).toBe(201);
    expect(rec.created[0]).toMatchObject({ title: "Beach day", description: "waves", filename: "a.mp4" });
  });

  it("rejects uploads above the maximum size with 413 and a clear error", async () => {
    const rec = recordingCatalog();
    const base = await start({ REELKIT_MAX_UPLOAD_SIZE: "1000" }, rec.catalog);
    const res = await fetch(`${base}/api/uploads`, {
      method: "POST",
      headers: { "Tus-Resumable": "1.0.0", ...auth(), "Upload-Length": "1001" },
    });
    expect(res.status).toBe(413);
    const body = JSON.parse(await res.text());
    expect(body.error.code).toBe("UPLOAD_TOO_LARGE");
    expect(body.error.message).toContain("1000 bytes");
    expect(rec.created).toEqual([]);
  });

  it("terminates an upload with DELETE", async () => {
    const rec = recordingCatalog();
    const base = await start({}, rec.catalog);
    const res = await fetch(`${base}/api/uploads`, {
      method: "POST",
      headers: { "Tus-Resumable": "1.0.0", ...auth(), "Upload-Length": "100" },
    });
    const url = new URL(res.headers.get("location") as string, base).toString();
    const del = await fetch(url, { method: "DELETE", headers: { "Tus-Resumable": "1.0.0", ...auth() } });
    expect(del.status).toBe(204);
    const head = await fetch(url, { method: "HEAD", headers: { "Tus-Resumable": "1.0.0", ...auth() } });
    expect([404, 410]).toContain(head.status);
    // The cancelled upload's video goes with it.
    await vi.waitFor(() => expect(rec.cancelled).toEqual([res.headers.get("reelkit-video-id")]));
  });

  it("resumes from the stored offset after a server restart", async () => {
    const rec = recordingCatalog();
    let base = await start({}, rec.catalog);
    const data = Buffer.from(Array.from({ length: 3000 }, (_, i) => i % 251));
    const created = await fetch(`${base}/api/uploads`, {
      method: "POST",
      headers: { "Tus-Resumable": "1.0.0", ...auth(), "Upload-Length": "3000" },
    });
    const location = created.headers.get("location") as string;
    const id = created.headers.get("reelkit-video-id") as string;
    const patch = (b: string, offset: number, body: Buffer) =>
      fetch(new URL(location, b), {
        method: "PATCH",
        headers: {
          "Tus-Resumable": "1.0.0",
          ...auth(),
          "Upload-Offset": String(offset),
          "Content-Type": "application/offset+octet-stream",
        },
        body: new Uint8Array(body),
      });
    expect((await patch(base, 0, data.subarray(0, 1000))).status).toBe(204);
    await app?.close();
    base = await start({}, rec.catalog);
    const head = await fetch(new URL(location, base), {
      method: "HEAD",
      headers: { "Tus-Resumable": "1.0.0", ...auth() },
    });
    expect(head.headers.get("upload-offset")).toBe("1000");
    expect((await patch(base, 1000, data.subarray(1000))).status).toBe(204);
    expect(rec.finished.map((f) => f.videoId)).toEqual([id]);
    expect((await fs.readFile(storage.localPath(keys.source(id)))).equals(data)).toBe(true);
  });

  it("keeps the bytes of a PATCH whose client disconnected, and resumes from there", async () => {
    const rec = recordingCatalog();
    const base = await start({}, rec.catalog);
    const data = Buffer.alloc(4 * 1024 * 1024);
    for (let i = 0; i < data.length; i++) data[i] = (i * 31) % 251;
    const created = await fetch(`${base}/api/uploads`, {
      method: "POST",
      headers: { "Tus-Resumable": "1.0.0", ...auth(), "Upload-Length": String(data.length) },
    });
    expect(created.status).toBe(201);
    const url = new URL(created.headers.get("location") as string, base);
    // Half the body, then the connection drops.
    const half = data.length / 2;
    await new Promise<void>((resolve) => {
      const req = http.request(url, {
        method: "PATCH",
        headers: {
          "Tus-Resumable": "1.0.0",
          ...auth(),
          "Upload-Offset": "0",
          "Content-Type": "application/offset+octet-stream",
          "Content-Length": String(data.length),
        },
      });
      req.on("error", () => resolve());
      req.write(data.subarray(0, half), () => setTimeout(() => req.destroy(), 300));
    });
    let offset = 0;
    await vi.waitFor(async () => {
      const head = await fetch(url, { method: "HEAD", headers: { "Tus-Resumable": "1.0.0", ...auth() } });
      offset = Number(head.headers.get("upload-offset"));
      expect(offset).toBe(half);
    });
    const rest = await fetch(url, {
      method: "PATCH",
      headers: {
        "Tus-Resumable": "1.0.0",
        ...auth(),
        "Upload-Offset": String(offset),
        "Content-Type": "application/offset+octet-stream",
      },
      body: data.subarray(offset),
    });
    expect(rest.status).toBe(204);
    expect(rest.headers.get("upload-offset")).toBe(String(data.length));
    const id = url.pathname.split("/").pop() as string;
    expect((await fs.readFile(storage.localPath(keys.source(id)))).equals(data)).toBe(true);
  });

  it("ignores a client-sent internal id header: the server names every video", async () => {
    const rec = recordingCatalog();
    const base = await start({}, rec.catalog);
    const res = await fetch(`${base}/api/uploads`, {
      method: "POST",
      headers: {
        "Tus-Resumable": "1.0.0",
        ...auth(),
        "Upload-Length": "10",
        "X-Reelkit-Internal-Video-Id": "00000000-0000-4000-8000-000000000000",
      },
    });
    expect(res.status).toBe(201);
    const id = res.headers.get("reelkit-video-id");
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(id).not.toBe("00000000-0000-4000-8000-000000000000");
    expect(res.headers.get("location")).toContain(id);
    expect(rec.created.map((c) => c.videoId)).toEqual([id]);
  });

  it("retries, in the periodic sweep, a finished upload whose catalog update failed", async () => {
    const rec = recordingCatalog();
    const finish = rec.catalog.finishUpload;
    let failures = 1;
    rec.catalog.finishUpload = async (videoId, source) => {
      if (failures-- > 0) throw new Error("database unavailable");
      return finish(videoId, source);
    };
    const base = await start({ REELKIT_UPLOAD_EXPIRY: "1s" }, rec.catalog);
    const data = Buffer.alloc(1000, 5);
    const res = await fetch(`${base}/api/uploads`, {
      method: "POST",
      headers: {
        "Tus-Resumable": "1.0.0",
        ...auth(),
        "Upload-Length": String(data.length),
        "Content-Type": "application/offset+octet-stream",
      },
      body: new Uint8Array(data),
    });
    // The bytes are stored, the catalog update failed: the client sees an error.
    expect(res.status).toBeGreaterThanOrEqual(500);
    const id = res.headers.get("reelkit-video-id") as string;
    expect(rec.finished).toEqual([]);
    await vi.waitFor(() => expect(rec.finished.map((f) => f.videoId)).toEqual([id]), { timeout: 5000, interval: 100 });
    expect((await fs.readFile(storage.localPath(keys.source(id)))).equals(data)).toBe(true);
  });

  it("removes abandoned uploads after the expiry period", async () => {
    const rec = recordingCatalog();
    const base = await start({ REELKIT_UPLOAD_EXPIRY: "1s" }, rec.catalog);
    const res = await fetch(`${base}/api/uploads`, {
      method: "POST",
      headers: { "Tus-Resumable": "1.0.0", ...auth(), "Upload-Length": "100" },
    });
    const id = res.headers.get("reelkit-video-id") as string;
    expect(await storage.stat(keys.upload(id))).not.toBeNull();
    await new Promise((r) => setTimeout(r, 3500));
    expect(await storage.stat(keys.upload(id))).toBeNull();
    // Its video can never finish now: FAILED with a reason, not UPLOADING forever.
    expect(rec.failed).toEqual([{ videoId: id, reason: UPLOAD_EXPIRED_REASON }]);
  });
});
