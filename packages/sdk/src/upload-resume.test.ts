// @vitest-environment jsdom
/**
 * Resuming after a page reload is a browser feature: tus-js-client keeps upload URLs by file
 * fingerprint in localStorage only in its browser build. This suite runs that build in jsdom
 * (XMLHttpRequest, File, localStorage) against a real @tus/server over HTTP.
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileStore } from "@tus/file-store";
import { Server } from "@tus/server";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { UPLOADS_PATH, VIDEO_ID_HEADER } from "./contract.js";
import { MIB, type UploadHandle, uploadVideo } from "./upload.js";

// Under vitest the package resolves to its Node build; load the browser build, as bundlers do.
vi.mock("tus-js-client", () => import("tus-js-client/lib.esm/browser/index.js"));

let dir: string;
let http: HttpServer;
let baseUrl: string;
let requests: string[];
let createdIds: string[];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "reelkit-sdk-resume-"));
  requests = [];
  createdIds = [];
  localStorage.clear();
  const tus = new Server({
    path: UPLOADS_PATH,
    datastore: new FileStore({ directory: join(dir, "store") }),
    // jsdom enforces CORS like a browser: the page may only read exposed headers.
    exposedHeaders: [VIDEO_ID_HEADER],
  });
  http = createServer((req, res) => {
    // CORS preflights are jsdom's, not the upload's.
    if (req.method !== "OPTIONS") requests.push(req.method ?? "");
    if (req.method === "POST") {
      const id = randomUUID();
      createdIds.push(id);
      res.setHeader(VIDEO_ID_HEADER, id);
    }
    void tus.handle(req, res);
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
});

afterEach(async () => {
  http.closeAllConnections();
  await new Promise((resolve) => http.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

function makeFile(): File {
  const bytes = new Uint8Array(7 * MIB).map((_, i) => i % 251);
  return new File([bytes], "reload.mp4", { type: "video/mp4", lastModified: 1_700_000_000_000 });
}

/** Uploads the first 5 MiB chunk, then stops as a page reload would (the fingerprint stays). */
async function uploadHalf(file: File): Promise<{ id: string; uploadUrl: string }> {
  let id = "";
  let handle!: UploadHandle;
  await new Promise<void>((resolve) => {
    handle = uploadVideo(baseUrl, file, {
      chunkSize: 5 * MIB,
      onCreated: (created) => {
        id = created;
      },
      onProgress: (p) => {
        if (p.bytesSent >= 5 * MIB) void handle.pause().then(resolve);
      },
    });
  });
  const stored = Object.keys(localStorage).find((k) => k.startsWith("tus::"));
  expect(stored).toBeDefined();
  const { uploadUrl } = JSON.parse(localStorage.getItem(stored as string) ?? "{}") as { uploadUrl: string };
  return { id, uploadUrl };
}

describe("uploadVideo resumed after a reload", () => {
  it("announces the remembered video id once the server confirms the upload", async () => {
    const file = makeFile();
    const first = await uploadHalf(file);
    expect(first.id).toBe(createdIds[0]);

    requests.length = 0;
    const onCreated = vi.fn();
    const result = await uploadVideo(baseUrl, file, { chunkSize: 5 * MIB, onCreated }).done;
    // No new creation: the HEAD asked for the offset, then the rest was sent.
    expect(requests[0]).toBe("HEAD");
    expect(requests).not.toContain("POST");
    expect(onCreated).toHaveBeenCalledExactlyOnceWith(first.id);
    expect(result).toEqual({ videoId: first.id, uploadUrl: first.uploadUrl });
  });

  it("announces the new id when the stored upload is gone and a new one is created", async () => {
    const file = makeFile();
    const first = await uploadHalf(file);
    // The server dropped the half-done upload (expired, or terminated elsewhere).
    const gone = await fetch(first.uploadUrl, { method: "DELETE", headers: { "tus-resumable": "1.0.0" } });
    expect(gone.status).toBe(204);

    const onCreated = vi.fn();
    const result = await uploadVideo(baseUrl, file, { chunkSize: 5 * MIB, onCreated }).done;
    expect(createdIds).toHaveLength(2);
    expect(onCreated).toHaveBeenCalledExactlyOnceWith(createdIds[1]);
    expect(result.videoId).toBe(createdIds[1]);
  });
});
