import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { loadConfig } from "@reelkit/core";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../app.js";

const INDEX = '<!doctype html><html><body><div id="root"></div><script src="/assets/index-AbC123.js"></script>';
const SCRIPT = "console.log('demo');";

let tmp: string;
let app: FastifyInstance;

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), "reelkit-demo-"));
  const dist = path.join(tmp, "dist");
  await fs.mkdir(path.join(dist, "assets"), { recursive: true });
  await fs.writeFile(path.join(dist, "index.html"), INDEX);
  await fs.writeFile(path.join(dist, "assets", "index-AbC123.js"), SCRIPT);
  await fs.writeFile(path.join(dist, "favicon.svg"), "<svg/>");
  // Next to the site, not in it: must never be reachable.
  await fs.writeFile(path.join(tmp, "secret.txt"), "do not serve");
  const config = loadConfig({ REELKIT_DATA_DIR: tmp, REELKIT_LOG_LEVEL: "silent", REELKIT_DEMO_DIR: dist });
  app = await buildApp({ config });
});

afterAll(async () => {
  await app?.close();
  await fs.rm(tmp, { recursive: true, force: true });
});

describe("demo routes", () => {
  it("serves index.html at / without long caching", async () => {
    const res = await app.inject({ method: "GET", url: "/", headers: { accept: "text/html" } });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^text\/html/);
    expect(res.headers["cache-control"]).toBe("no-cache");
    expect(res.body).toBe(INDEX);
  });

  it("serves hashed assets with their MIME type as immutable", async () => {
    const res = await app.inject({ method: "GET", url: "/assets/index-AbC123.js" });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toMatch(/javascript/);
    expect(res.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
    expect(res.body).toBe(SCRIPT);
  });

  it("serves other top-level files with revalidation", async () => {
    const res = await app.inject({ method: "GET", url: "/favicon.svg" });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^image\/svg\+xml/);
    expect(res.headers["cache-control"]).toBe("no-cache");
  });

  it("answers client-side routes with index.html for browsers and curl alike", async () => {
    for (const accept of ["text/html,application/xhtml+xml,*/*;q=0.8", "*/*", undefined]) {
      const res = await app.inject({
        method: "GET",
        url: "/watch/0b6c4c1e-8c0e-4a7e-9a43-5f1a1e0f2b11?t=3",
        headers: accept ? { accept } : {},
      });
      expect(res.statusCode, String(accept)).toBe(200);
      expect(res.headers["content-type"]).toMatch(/^text\/html/);
      expect(res.headers["cache-control"]).toBe("no-cache");
      expect(res.body).toBe(INDEX);
    }
    const head = await app.inject({ method: "HEAD", url: "/search?q=cats", headers: { accept: "text/html" } });
    expect(head.statusCode).toBe(200);
    expect(head.headers["content-type"]).toMatch(/^text\/html/);
  });

  it("does not answer a missing asset or a non-HTML request with the page", async () => {
    const asset = await app.inject({ method: "GET", url: "/assets/index-Old999.js", headers: { accept: "*/*" } });
    expect(asset.statusCode).toBe(404);
    expect(asset.json().error.code).toBe("NOT_FOUND");
    const json = await app.inject({ method: "GET", url: "/watch/x", headers: { accept: "application/json" } });
    expect(json.statusCode).toBe(404);
    expect(json.json().error.code).toBe("NOT_FOUND");
  });

  it("leaves /api and /media to their own 404 in the JSON error shape", async () => {
    for (const url of ["/api/unknown", "/api", "/media/nothing/here"]) {
      const res = await app.inject({ method: "GET", url, headers: { accept: "text/html" } });
      expect(res.statusCode, url).toBe(404);
      expect(res.headers["content-type"]).toMatch(/^application\/json/);
      expect(res.json().error.code, url).toMatch(/NOT_FOUND/);
    }
    const healthz = await app.inject({ method: "GET", url: "/healthz" });
    expect(healthz.json()).toEqual({ status: "ok" });
  });

  it("never serves files outside the site", async () => {
    // Plain `..` segments are normalised away by the router before they reach the route.
    for (const url of ["/../secret.txt", "/%2e%2e/secret.txt"]) {
      const res = await app.inject({ method: "GET", url, headers: { accept: "*/*" } });
      expect(res.body, url).not.toContain("do not serve");
    }
    // Encoded separators survive routing and are refused as missing files.
    for (const url of ["/assets/..%2f..%2fsecret.txt", "/..%2fsecret.txt", "/..%5csecret.txt"]) {
      const res = await app.inject({ method: "GET", url, headers: { accept: "*/*" } });
      expect(res.statusCode, url).toBe(404);
      expect(res.json().error.code, url).toBe("NOT_FOUND");
    }
    const malformed = await app.inject({ method: "GET", url: "/%E0%A4%A", headers: { accept: "text/html" } });
    expect(malformed.statusCode).toBe(400);
  });

  it("registers nothing when no demo directory is configured", async () => {
    const bare = await buildApp({ config: loadConfig({ REELKIT_DATA_DIR: tmp, REELKIT_LOG_LEVEL: "silent" }) });
    try {
      const res = await bare.inject({ method: "GET", url: "/", headers: { accept: "text/html" } });
      expect(res.statusCode).toBe(404);
      expect(res.json()).toEqual({ error: { code: "NOT_FOUND", message: "Route GET / not found" } });
    } finally {
      await bare.close();
    }
  });
});
