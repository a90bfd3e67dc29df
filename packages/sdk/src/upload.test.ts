import { randomUUID } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileStore } from "@tus/file-store";
import { Server } from "@tus/server";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { startServer, type TestServer } from "../test/http-server.js";
import { createReelkitClient } from "./client.js";
import { UPLOADS_PATH, VIDEO_ID_HEADER } from "./contract.js";
import { chooseChunkSize, createSpeedMeter, MIB, type UploadProgress, uploadVideo } from "./upload.js";

describe("chooseChunkSize", () => {
  it("never goes below 5 MiB", () => {
    expect(chooseChunkSize(1_000, 1)).toBe(5 * MIB);
  });
  it("keeps a large upload within 10,000 parts", () => {
    const size = 200 * 1024 * MIB; // 200 GiB
    const chunk = chooseChunkSize(size);
    expect(Math.ceil(size / chunk)).toBeLessThanOrEqual(10_000);
    expect(chunk).toBeGreaterThan(8 * MIB);
  });
  it("honours a larger requested size", () => {
    expect(chooseChunkSize(10 * MIB, 16 * MIB)).toBe(16 * MIB);
  });
});

describe("createSpeedMeter", () => {
  it("measures bytes per second over its window", () => {
    let t = 0;
    const meter = createSpeedMeter(5_000, () => t);
    expect(meter.sample(0)).toBe(0);
    t = 1_000;
    expect(meter.sample(1_000_000)).toBe(1_000_000);
    t = 10_000;
    meter.sample(2_000_000);
    t = 11_000;
    // Samples older than the window are dropped: only 10s..11s counts.
    expect(meter.sample(2_500_000)).toBe(500_000);
  });
});

describe("uploadVideo against a real tus server", () => {
  let dir: string;
  let server: TestServer;
  let createdIds: string[];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "reelkit-sdk-upload-"));
    createdIds = [];
    const tus = new Server({ path: UPLOADS_PATH, datastore: new FileStore({ directory: join(dir, "store") }) });
    server = await startServerRaw(tus, createdIds);
  });
  afterEach(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function makeFile(bytes: number): Promise<string> {
    const path = join(dir, "clip.mp4");
    const data = Buffer.alloc(bytes);
    for (let i = 0; i < bytes; i++) data[i] = i % 251;
    await writeFile(path, data);
    return path;
  }

  it("uploads a file path in chunks with metadata, progress and the video id", async () => {
    const path = await makeFile(12 * MIB);
    const events: UploadProgress[] = [];
    const client = createReelkitClient({ baseUrl: server.baseUrl, getToken: () => "t0k" });
    const handle = uploadVideo(client, path, {
      title: "My clip",
      description: "Über",
      onProgress: (p) => events.push(p),
    });
    const result = await handle.done;
    expect(result.videoId).toBe(createdIds[0]);
    expect(result.uploadUrl).toContain(`${server.baseUrl}${UPLOADS_PATH}/`);

    const uploadId = result.uploadUrl.split("/").pop() ?? "";
    const stored = await readFile(join(dir, "store", uploadId));
    expect(stored.equals(await readFile(path))).toBe(true);
    const meta = JSON.parse(await readFile(join(dir, "store", `${uploadId}.json`), "utf8"));
    expect(meta.metadata).toMatchObject({ filename: "clip.mp4", title: "My clip", description: "Über" });

    // 12 MiB in 8 MiB chunks: two PATCH requests, each authorised.
    const patches = server.requests.filter((r) => r.method === "PATCH");
    expect(patches).toHaveLength(2);
    expect(patches.every((r) => r.headers.authorization === "Bearer t0k")).toBe(true);

    const last = events.at(-1);
    expect(last).toMatchObject({ bytesSent: 12 * MIB, bytesTotal: 12 * MIB, percent: 100 });
    expect(events.every((e, i) => i === 0 || e.bytesSent >= (events[i - 1]?.bytesSent ?? 0))).toBe(true);
  });

  it("uploads a ReadStream given a base URL", async () => {
    const path = await makeFile(1_000);
    const result = await uploadVideo(server.baseUrl, createReadStream(path), { title: "s" }).done;
    expect(result.videoId).toBe(createdIds[0]);
    const uploadId = result.uploadUrl.split("/").pop() ?? "";
    expect((await stat(join(dir, "store", uploadId))).size).toBe(1_000);
  });

  it("pauses and resumes without re-sending finished chunks", async () => {
    const path = await makeFile(16 * MIB);
    let paused = false;
    const handle = uploadVideo(server.baseUrl, path, {
      chunkSize: 5 * MIB,
      onProgress: (p) => {
        if (!paused && p.bytesSent >= 5 * MIB) {
          paused = true;
          void handle.pause().then(() => setTimeout(() => handle.resume(), 50));
        }
      },
    });
    const result = await handle.done;
    expect(paused).toBe(true);
    // Resuming asks the server for its offset (HEAD) before sending more.
    expect(server.requests.some((r) => r.method === "HEAD")).toBe(true);
    const uploadId = result.uploadUrl.split("/").pop() ?? "";
    expect((await readFile(join(dir, "store", uploadId))).equals(await readFile(path))).toBe(true);
  });

  it("aborting through the signal rejects and terminates the upload", async () => {
    const path = await makeFile(16 * MIB);
    const controller = new AbortController();
    const handle = uploadVideo(server.baseUrl, path, {
      signal: controller.signal,
      onProgress: (p) => {
        if (p.bytesSent > 0) controller.abort();
      },
    });
    await expect(handle.done).rejects.toMatchObject({ name: "AbortError" });
    await new Promise((r) => setTimeout(r, 100));
    expect(server.requests.some((r) => r.method === "DELETE")).toBe(true);
  });

  it("names the video through onCreated once, from the creation response, before any byte is sent", async () => {
    const path = await makeFile(16 * MIB);
    const created: { id: string; patchesBefore: number }[] = [];
    let paused = false;
    let resumed = false;
    const controller = new AbortController();
    const handle = uploadVideo(server.baseUrl, path, {
      chunkSize: 5 * MIB,
      signal: controller.signal,
      onCreated: (id) =>
        created.push({ id, patchesBefore: server.requests.filter((r) => r.method === "PATCH").length }),
      onProgress: (p) => {
        if (!paused && p.bytesSent >= 5 * MIB) {
          paused = true;
          // Resuming asks the server again (HEAD); that must not announce the video a second time.
          void handle.pause().then(() =>
            setTimeout(() => {
              resumed = true;
              handle.resume();
            }, 20),
          );
        }
        if (resumed && p.bytesSent >= 10 * MIB) controller.abort();
      },
    });
    await expect(handle.done).rejects.toMatchObject({ name: "AbortError" });
    expect(server.requests.some((r) => r.method === "HEAD")).toBe(true);
    // Known although the upload was abandoned halfway.
    expect(created).toEqual([{ id: createdIds[0], patchesBefore: 0 }]);
  });

  it("does not take a video id from a refused creation", async () => {
    await server.close();
    server = await startServer((_req, res) => {
      res.writeHead(500, { [VIDEO_ID_HEADER]: "never-stored", "tus-resumable": "1.0.0" });
      res.end();
    });
    const onCreated = vi.fn();
    const path = await makeFile(10);
    await expect(uploadVideo(server.baseUrl, path, { retryDelays: [], onCreated }).done).rejects.toThrow(/500/);
    expect(onCreated).not.toHaveBeenCalled();
  });

  it("ignores the signal once the upload finished: no termination of a completed upload", async () => {
    const path = await makeFile(1_000);
    const controller = new AbortController();
    const handle = uploadVideo(server.baseUrl, path, { signal: controller.signal });
    const result = await handle.done;
    controller.abort();
    await handle.abort();
    await new Promise((r) => setTimeout(r, 100));
    expect(server.requests.map((r) => r.method)).not.toContain("DELETE");
    const uploadId = result.uploadUrl.split("/").pop() ?? "";
    expect((await stat(join(dir, "store", uploadId))).size).toBe(1_000);
    await expect(handle.done).resolves.toEqual(result);
  });

  it("ignores the signal once the upload failed", async () => {
    const path = await makeFile(6 * MIB);
    const controller = new AbortController();
    // The server accepts the creation, then loses the upload: the first PATCH gets a 404.
    await server.close();
    let patches = 0;
    const tus = new Server({ path: UPLOADS_PATH, datastore: new FileStore({ directory: join(dir, "store") }) });
    server = await startServerRaw(tus, createdIds, (req, res) => {
      if (req.method !== "PATCH") return false;
      patches++;
      res.writeHead(404, { "tus-resumable": "1.0.0" }).end();
      return true;
    });
    const handle = uploadVideo(server.baseUrl, path, { signal: controller.signal, retryDelays: [] });
    await expect(handle.done).rejects.toThrow(/404/);
    expect(patches).toBe(1);
    controller.abort();
    await new Promise((r) => setTimeout(r, 100));
    expect(server.requests.map((r) => r.method)).not.toContain("DELETE");
  });

  it("rejects with the server's error when creation is refused", async () => {
    await server.close();
    server = await startServer((_req, res) => {
      res.writeHead(401, { "content-type": "application/json", "tus-resumable": "1.0.0" });
      res.end(JSON.stringify({ error: { code: "UNAUTHORIZED", message: "Sign in" } }));
    });
    const path = await makeFile(10);
    // The API's own error, as the client's requests give it: a ReelkitApiError with its code.
    await expect(uploadVideo(server.baseUrl, path, { retryDelays: [] }).done).rejects.toMatchObject({
      name: "ReelkitApiError",
      status: 401,
      code: "UNAUTHORIZED",
      message: "Sign in",
    });
  });
});

/** Real @tus/server behind node:http, naming a new video id on creation like the Reelkit server. */
async function startServerRaw(
  tus: Server,
  createdIds: string[],
  /** Answers a request itself (returns true) instead of tus, e.g. to inject a failure. */
  intercept?: (req: IncomingMessage, res: ServerResponse) => boolean,
): Promise<TestServer> {
  const { createServer } = await import("node:http");
  const requests: TestServer["requests"] = [];
  const http = createServer((req, res) => {
    requests.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body: "" });
    if (intercept?.(req, res)) {
      req.resume();
      return;
    }
    if (req.method === "POST") {
      const id = randomUUID();
      createdIds.push(id);
      res.setHeader(VIDEO_ID_HEADER, id);
    }
    void tus.handle(req, res);
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const address = http.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}
