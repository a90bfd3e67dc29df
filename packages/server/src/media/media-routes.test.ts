import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { LocalStorage, loadConfig } from "@reelkit/core";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../app.js";

let dir: string;
let app: FastifyInstance;
let base: string;
const id = "0b9f3c1e-2f4d-4a7b-9c1d-1234567890ab";
const segment = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 256));
/** Several read buffers long (and not a multiple of one), like a real 1 s 1080p segment. */
const large = randomBytes(700 * 1024 + 123);

/** Raw GET so the path reaches the server exactly as written (fetch would normalise `..`). */
function rawGet(p: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
    const u = new URL(base);
    const req = http.request({ host: u.hostname, port: u.port, path: p, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on("error", reject);
    req.end();
  });
}

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "reelkit-media-"));
  const storage = new LocalStorage(path.join(dir, "media"));
  await storage.put(`videos/${id}/hls/master.m3u8`, Buffer.from("#EXTM3U\n"));
  await storage.put(`videos/${id}/hls/720p/seg_0.m4s`, segment);
  await storage.put(`videos/${id}/hls/720p/init.mp4`, Buffer.from("init"));
  await storage.put(`videos/${id}/hls/1080p/seg_0.m4s`, large);
  await storage.put(`videos/${id}/poster.jpg`, Buffer.from("jpeg"));
  await storage.put(`videos/${id}/storyboard.vtt`, Buffer.from("WEBVTT\n"));
  await storage.put(`videos/${id}/source`, Buffer.from("secret source"));
  await storage.put("uploads/abc", Buffer.from("secret upload"));
  const config = loadConfig({ REELKIT_DATA_DIR: dir, REELKIT_LOG_LEVEL: "silent" });
  app = await buildApp({ config, storage });
  base = await app.listen({ port: 0, host: "127.0.0.1" });
});

afterAll(async () => {
  await app.close();
  await fs.rm(dir, { recursive: true, force: true });
});

describe("/media", () => {
  it("serves playlists with the HLS MIME type and short caching", async () => {
    const res = await fetch(`${base}/media/videos/${id}/hls/master.m3u8`, { headers: { origin: "https://a.example" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/vnd.apple.mpegurl");
    expect(res.headers.get("cache-control")).toBe("public, max-age=2");
    expect(res.headers.get("access-control-allow-origin")).toBeTruthy();
    expect(await res.text()).toBe("#EXTM3U\n");
  });

  it("serves segments, init, images and vtt immutable with their MIME types", async () => {
    const cases: [string, string][] = [
      [`videos/${id}/hls/720p/seg_0.m4s`, "video/iso.segment"],
      [`videos/${id}/hls/720p/init.mp4`, "video/mp4"],
      [`videos/${id}/poster.jpg`, "image/jpeg"],
      [`videos/${id}/storyboard.vtt`, "text/vtt; charset=utf-8"],
    ];
    for (const [key, type] of cases) {
      const res = await fetch(`${base}/media/${key}`);
      expect(res.status, key).toBe(200);
      expect(res.headers.get("content-type")).toBe(type);
      expect(res.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    }
    const seg = await fetch(`${base}/media/videos/${id}/hls/720p/seg_0.m4s`);
    expect(Buffer.from(await seg.arrayBuffer()).equals(segment)).toBe(true);
  });

  it("answers Range requests with 206 and the exact bytes, 416 when unsatisfiable", async () => {
    const url = `${base}/media/videos/${id}/hls/720p/seg_0.m4s`;
    const r = await fetch(url, { headers: { range: "bytes=10-19" } });
    expect(r.status).toBe(206);
    expect(r.headers.get("content-range")).toBe("bytes 10-19/1000");
    expect(Buffer.from(await r.arrayBuffer()).equals(segment.subarray(10, 20))).toBe(true);
    const suffix = await fetch(url, { headers: { range: "bytes=-5" } });
    expect(suffix.status).toBe(206);
    expect(Buffer.from(await suffix.arrayBuffer()).equals(segment.subarray(995))).toBe(true);
    const bad = await fetch(url, { headers: { range: "bytes=5000-" } });
    expect(bad.status).toBe(416);
    expect(bad.headers.get("content-range")).toBe("bytes */1000");
    expect((await bad.json()).error.code).toBe("RANGE_NOT_SATISFIABLE");
  });

  it("writes large segments byte-exact, whole and ranged, with this route's, CORS and helmet's headers", async () => {
    const url = `${base}/media/videos/${id}/hls/1080p/seg_0.m4s`;
    const whole = await fetch(url, { headers: { origin: "https://a.example" } });
    expect(whole.status).toBe(200);
    expect(Object.fromEntries(whole.headers)).toMatchObject({
      "content-type": "video/iso.segment",
      "content-length": String(large.length),
      "cache-control": "public, max-age=31536000, immutable",
      "accept-ranges": "bytes",
      etag: expect.stringMatching(/^"[0-9a-f]+-[0-9a-f]+"$/),
      "last-modified": expect.any(String),
      "x-content-type-options": "nosniff",
      "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox; frame-ancestors 'none'",
      "cross-origin-resource-policy": "cross-origin",
      "access-control-allow-origin": expect.any(String),
    });
    expect(Buffer.from(await whole.arrayBuffer()).equals(large)).toBe(true);
    // Across the boundary between the first and second read buffer.
    const ranged = await fetch(url, { headers: { range: "bytes=262000-530000" } });
    expect(ranged.status).toBe(206);
    expect(ranged.headers.get("content-range")).toBe(`bytes 262000-530000/${large.length}`);
    expect(ranged.headers.get("content-length")).toBe("268001");
    expect(ranged.headers.get("etag")).toBe(whole.headers.get("etag"));
    expect(Buffer.from(await ranged.arrayBuffer()).equals(large.subarray(262_000, 530_001))).toBe(true);
    const head = await fetch(url, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-length")).toBe(String(large.length));
    expect(await head.text()).toBe("");
  });

  it("counts the files it writes in /metrics under the route template", async () => {
    await fetch(`${base}/media/videos/${id}/hls/1080p/seg_0.m4s`, { headers: { range: "bytes=0-9" } }).then((r) =>
      r.arrayBuffer(),
    );
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(
      /reelkit_http_request_duration_seconds_count\{[^}]*route="\/media\/\*"[^}]*status_code="206"[^}]*\} [1-9]/,
    );
  });

  it("keeps no file open for clients that go away mid-download, and goes on serving", async () => {
    const file = await fs.realpath(path.join(dir, "media", "videos", id, "hls", "1080p", "seg_0.m4s"));
    const u = new URL(base);
    // The probe sees a file held open by a download in progress (else the zero below proves
    // nothing): a client that stops reading a file larger than the loopback socket buffers.
    const held = `videos/${id}/hls/1080p/seg_held.m4s`;
    await fs.writeFile(path.join(dir, "media", held), randomBytes(32 * 1024 * 1024));
    const heldFile = await fs.realpath(path.join(dir, "media", held));
    const openOn = async (target: string) => {
      let n = 0;
      for (const fd of await fs.readdir("/proc/self/fd")) {
        if ((await fs.readlink(`/proc/self/fd/${fd}`).catch(() => "")) === target) n++;
      }
      return n;
    };
    await new Promise<void>((resolve, reject) => {
      const req = http.get({ host: u.hostname, port: u.port, path: `/media/${held}` });
      req.on("response", (res) =>
        res.once("data", () => {
          res.pause();
          expect
            .poll(() => openOn(heldFile), { timeout: 5_000 })
            .toBe(1)
            .catch(reject)
            .finally(() => req.destroy());
        }),
      );
      req.on("close", resolve);
      req.on("error", () => undefined);
    });
    await expect.poll(() => openOn(heldFile), { timeout: 5_000 }).toBe(0);
    await Promise.all(
      Array.from(
        { length: 5 },
        () =>
          new Promise<void>((resolve) => {
            const req = http.get({ host: u.hostname, port: u.port, path: `/media/videos/${id}/hls/1080p/seg_0.m4s` });
            req.on("response", (res) => res.once("data", () => req.destroy()));
            req.on("close", resolve);
            req.on("error", () => undefined);
          }),
      ),
    );
    await expect.poll(() => openOn(file), { timeout: 5_000 }).toBe(0);
    const res = await fetch(`${base}/media/videos/${id}/hls/1080p/seg_0.m4s`);
    expect(Buffer.from(await res.arrayBuffer()).equals(large)).toBe(true);
  });

  it("never serves sources or uploads", async () => {
    for (const p of [`videos/${id}/source`, "uploads/abc"]) {
      const res = await rawGet(`/media/${p}`);
      expect(res.status, p).toBe(404);
      expect(JSON.parse(res.body.toString()).error.code).toBe("MEDIA_NOT_FOUND");
    }
  });

  it("rejects traversal, plain and encoded, with INVALID_MEDIA_PATH", async () => {
    for (const p of [
      `/media/videos/${id}/hls/../source`,
      `/media/videos/${id}/hls/%2e%2e/source`,
      `/media/videos/${id}/hls/..%2fsource`,
      "/media/../../etc/passwd",
    ]) {
      const res = await rawGet(p);
      expect(res.status, p).toBe(400);
      expect(JSON.parse(res.body.toString()).error.code).toBe("INVALID_MEDIA_PATH");
      expect(res.body.toString()).not.toContain("secret");
    }
  });

  it("404s MEDIA_NOT_FOUND for a missing file", async () => {
    const res = await fetch(`${base}/media/videos/${id}/hls/1080p/seg_9.m4s`);
    expect(res.status).toBe(404);
    expect((await res.json()).error.code).toBe("MEDIA_NOT_FOUND");
  });
});
