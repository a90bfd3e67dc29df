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
import type { Catalog } from "../catalog/catalog.js";
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
    // Only the upload routes are exercised: the recorder stands in for the upload lifecycle.
    catalog: { uploads: catalog } as unknown as Catalog,
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
    // The finished upload stays (until it expires), so a client that lost the last response
    // learns from HEAD that it is complete, and for which video.
    const head = await fetch(`${base}/api/uploads/${videoId}`, {
      method: "HEAD",
      headers: { "Tus-Resumable": "1.0.0", ...auth() },
    });
    expect(head.status).toBe(200);
    expect(head.headers.get("upload-offset")).toBe("200000");
    expect(head.headers.get("upload-length")).toBe("200000");
    expect(head.headers.get("reelkit-video-id")).toBe(videoId);
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

  it("answers every tus error in the error shape, with codes of its own", async () => {
    const rec = recordingCatalog();
    const base = await start({}, rec.catalog);
    // As the signed-in user: the tus checks come after authentication.
    const tusHeaders = { "Tus-Resumable": "1.0.0", ...auth() };
    const expectError = async (res: Response, status: number, code: string) => {
      expect(res.status).toBe(status);
      expect(res.headers.get("content-type")).toMatch(/^application\/json/);
      const body = await res.json();
      expect(body.error.code).toBe(code);
      expect(typeof body.error.message).toBe("string");
      return body.error.message as string;
    };
    const missingVersion = await fetch(`${base}/api/uploads`, {
      method: "POST",
      headers: { ...auth(), "Upload-Length": "4" },
    });
    await expectError(missingVersion, 412, "VALIDATION_FAILED");
    const noLength = await fetch(`${base}/api/uploads`, { method: "POST", headers: tusHeaders });
    await expectError(noLength, 400, "VALIDATION_FAILED");
    const badMetadata = await fetch(`${base}/api/uploads`, {
      method: "POST",
      headers: { ...tusHeaders, "Upload-Length": "4", "Upload-Metadata": "a b c d" },
    });
    await expectError(badMetadata, 400, "VALIDATION_FAILED");
    const unknown = "00000000-0000-4000-8000-000000000000";
    const patchUnknown = await fetch(`${base}/api/uploads/${unknown}`, {
      method: "PATCH",
      headers: { ...tusHeaders, "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream" },
      body: "abcd",
    });
    await expectError(patchUnknown, 404, "UPLOAD_NOT_FOUND");

    const created = await fetch(`${base}/api/uploads`, {
      method: "POST",
      headers: { ...tusHeaders, "Upload-Length": "4" },
    });
    const id = created.headers.get("reelkit-video-id") as string;
    const noOffset = await fetch(`${base}/api/uploads/${id}`, { method: "PATCH", headers: tusHeaders });
    await expectError(noOffset, 403, "VALIDATION_FAILED"); // Upload-Offset is required
    const patch = (offset: number, body: string) =>
      fetch(`${base}/api/uploads/${id}`, {
        method: "PATCH",
        headers: { ...tusHeaders, "Upload-Offset": String(offset), "Content-Type": "application/offset+octet-stream" },
        body,
      });
    await expectError(await patch(2, "ab"), 409, "UPLOAD_OFFSET_MISMATCH");
    // Past the declared Upload-Length: said so, not "exceeds the maximum size".
    const tooLong = await expectError(await patch(0, "abcdefgh"), 413, "UPLOAD_LENGTH_EXCEEDED");
    expect(tooLong).toContain("Upload-Length");
    // The failed creations left no video behind.
    expect(rec.created.map((c) => c.videoId)).toEqual([id]);
  });

  it("lets cross-origin pages use tus: preflights allow its methods and headers, replies expose its headers", async () => {
    for (const origins of ["*", "https://site.example,https://other.example"]) {
      const rec = recordingCatalog();
      const base = await start({ REELKIT_CORS_ORIGINS: origins }, rec.catalog);
      const preflight = await fetch(`${base}/api/uploads/00000000-0000-4000-8000-000000000000`, {
        method: "OPTIONS",
        headers: {
          Origin: "https://site.example",
          "Access-Control-Request-Method": "PATCH",
          "Access-Control-Request-Headers": "tus-resumable,upload-offset,content-type,authorization",
        },
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get("access-control-allow-origin")).toMatch(/^(\*|https:\/\/site\.example)$/);
      const methods = preflight.headers.get("access-control-allow-methods") ?? "";
      for (const m of ["PATCH", "DELETE", "HEAD", "POST"]) expect(methods).toContain(m);
      const allowed = (preflight.headers.get("access-control-allow-headers") ?? "").toLowerCase();
      for (const h of [
        "tus-resumable",
        "upload-offset",
        "upload-length",
        "upload-metadata",
        "content-type",
        "authorization",
      ]) {
        expect(allowed).toContain(h);
      }
      const created = await fetch(`${base}/api/uploads`, {
        method: "POST",
        headers: { ...auth(), Origin: "https://site.example", "Tus-Resumable": "1.0.0", "Upload-Length": "4" },
      });
      expect(created.status).toBe(201);
      expect(created.headers.get("access-control-allow-origin")).toMatch(/^(\*|https:\/\/site\.example)$/);
      const exposed = (created.headers.get("access-control-expose-headers") ?? "").toLowerCase();
      for (const h of ["location", "upload-offset", "tus-resumable", "upload-expires", "reelkit-video-id"]) {
        expect(exposed).toContain(h);
      }
      // An origin not on the list gets no CORS grant.
      const foreign = await fetch(`${base}/api/uploads`, {
        method: "POST",
        headers: { ...auth(), Origin: "https://evil.example", "Tus-Resumable": "1.0.0", "Upload-Length": "4" },
      });
      if (origins !== "*") expect(foreign.headers.get("access-control-allow-origin")).toBeNull();
      // tus discovery (OPTIONS without a preflight) still tells the protocol version.
      const discovery = await fetch(`${base}/api/uploads`, { method: "OPTIONS" });
      expect(discovery.status).toBe(204);
      expect(discovery.headers.get("tus-version")).toBe("1.0.0");
      expect(discovery.headers.get("tus-extension")).toContain("creation");
      await app?.close();
      app = undefined;
    }
  });

  it("counts expiry from the last activity: an upload that keeps sending never expires", async () => {
    const rec = recordingCatalog();
    const base = await start({ REELKIT_UPLOAD_EXPIRY: "4s" }, rec.catalog);
    const created = await fetch(`${base}/api/uploads`, {
      method: "POST",
      headers: { "Tus-Resumable": "1.0.0", ...auth(), "Upload-Length": "3" },
    });
    const id = created.headers.get("reelkit-video-id") as string;
    const patch = (offset: number) =>
      fetch(`${base}/api/uploads/${id}`, {
        method: "PATCH",
        headers: {
          ...auth(),
          "Tus-Resumable": "1.0.0",
          "Upload-Offset": String(offset),
          "Content-Type": "application/offset+octet-stream",
        },
        body: "x",
      });
    const createdAt = Date.now();
    for (let offset = 0; offset < 3; offset++) {
      if (offset > 0) await new Promise((r) => setTimeout(r, 2500));
      const res = await patch(offset);
      expect(res.status, await res.clone().text()).toBe(204);
      if (offset < 2) {
        // Upload-Expires moves with each write.
        const expires = Date.parse(res.headers.get("upload-expires") as string);
        expect(expires).toBeGreaterThan(Date.now() + 2000);
      }
    }
    expect(Date.now() - createdAt).toBeGreaterThan(4000);
    expect(rec.finished.map((f) => f.videoId)).toEqual([id]);
    expect(rec.failed).toEqual([]);
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
