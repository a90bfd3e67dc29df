import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { loadConfig } from "@reelkit/core";
import type { FastifyInstance } from "fastify";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../app.js";

// Over HTTP (inject), from loopback and from other addresses, with and without
// REELKIT_METRICS_TOKEN.

const TOKEN = "metrics-token-0123456789abcdef";
let dataDir: string;
let app: FastifyInstance | undefined;

beforeAll(async () => {
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "reelkit-metrics-"));
});
afterEach(async () => {
  await app?.close();
  app = undefined;
});
afterAll(async () => {
  await fs.rm(dataDir, { recursive: true, force: true });
});

async function start(env: Record<string, string> = {}): Promise<FastifyInstance> {
  app = await buildApp({ config: loadConfig({ REELKIT_DATA_DIR: dataDir, REELKIT_LOG_LEVEL: "silent", ...env }) });
  return app;
}

describe("/metrics without REELKIT_METRICS_TOKEN", () => {
  it("answers loopback clients (IPv4, IPv6, IPv4-mapped)", async () => {
    const server = await start();
    for (const remoteAddress of ["127.0.0.1", "127.0.0.53", "::1", "::ffff:127.0.0.1"]) {
      const res = await server.inject({ url: "/metrics", remoteAddress });
      expect(res.statusCode, remoteAddress).toBe(200);
      expect(res.body).toContain("http_request_duration_seconds");
    }
  });

  it("refuses every other client with 403 in the error shape", async () => {
    const server = await start();
    for (const remoteAddress of ["203.0.113.7", "10.0.0.1", "::ffff:10.0.0.1", "2001:db8::1", "128.0.0.1"]) {
      const res = await server.inject({ url: "/metrics", remoteAddress });
      expect(res.statusCode, remoteAddress).toBe(403);
      expect(res.json()).toEqual({
        error: {
          code: "FORBIDDEN",
          message: "/metrics answers loopback clients only; set REELKIT_METRICS_TOKEN to scrape it from elsewhere",
        },
      });
      expect(res.body).not.toContain("http_request_duration_seconds");
    }
  });
});

describe("/metrics with REELKIT_METRICS_TOKEN", () => {
  it("answers any client that sends the bearer token", async () => {
    const server = await start({ REELKIT_METRICS_TOKEN: TOKEN });
    for (const remoteAddress of ["203.0.113.7", "127.0.0.1"]) {
      for (const scheme of ["Bearer", "bearer"]) {
        const res = await server.inject({
          url: "/metrics",
          remoteAddress,
          headers: { authorization: `${scheme} ${TOKEN}` },
        });
        expect(res.statusCode, `${remoteAddress} ${scheme}`).toBe(200);
      }
    }
  });

  it("answers 401 without it, with a wrong one, or with another scheme, loopback included", async () => {
    const server = await start({ REELKIT_METRICS_TOKEN: TOKEN });
    const attempts: [string, string | undefined][] = [
      ["127.0.0.1", undefined],
      ["203.0.113.7", undefined],
      ["127.0.0.1", `Bearer ${TOKEN.slice(0, -1)}`],
      ["127.0.0.1", `Bearer ${TOKEN}x`],
      ["203.0.113.7", `Basic ${Buffer.from(`x:${TOKEN}`).toString("base64")}`],
      ["203.0.113.7", TOKEN],
    ];
    for (const [remoteAddress, authorization] of attempts) {
      const res = await server.inject({
        url: "/metrics",
        remoteAddress,
        headers: authorization ? { authorization } : {},
      });
      expect(res.statusCode, `${remoteAddress} ${authorization}`).toBe(401);
      expect(res.headers["www-authenticate"]).toBe('Bearer realm="metrics"');
      expect(res.json().error.code).toBe("UNAUTHORIZED");
      expect(res.body).not.toContain("http_request_duration_seconds");
    }
  });
});
