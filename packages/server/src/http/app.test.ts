import net from "node:net";
import { Writable } from "node:stream";
import { createLogger, loadConfig } from "@reelkit/core";
import { Type } from "@sinclair/typebox";
import { afterEach, describe, expect, it } from "vitest";
import { buildApp } from "../app.js";
import { errors } from "./errors.js";

const config = loadConfig({ REELKIT_DATA_DIR: "/tmp/reelkit-app-test", REELKIT_LOG_LEVEL: "silent" });

describe("buildApp", () => {
  let app: Awaited<ReturnType<typeof buildApp>> | undefined;
  afterEach(async () => {
    await app?.close();
  });

  it("sends security headers that still let other sites read media and the API", async () => {
    app = await buildApp({ config });
    for (const url of ["/healthz", "/media/videos/abc/poster.jpg", "/nope"]) {
      const res = await app.inject({ method: "GET", url });
      expect(res.headers["x-content-type-options"], url).toBe("nosniff");
      expect(res.headers["x-frame-options"], url).toBeUndefined();
      expect(res.headers["content-security-policy"], url).toBe("default-src 'none'; frame-ancestors 'none'");
      expect(res.headers["cross-origin-resource-policy"], url).toBe("cross-origin");
      expect(res.headers["referrer-policy"], url).toBe("no-referrer");
      // Plain http: no HSTS (security-headers.test.ts covers https).
      expect(res.headers["strict-transport-security"], url).toBeUndefined();
      expect(res.headers["cross-origin-opener-policy"], url).toBe("same-origin-allow-popups");
    }
    // REELKIT_FRAME_ANCESTORS governs the demo's pages (security-headers.test.ts); a directive
    // smuggled into it is refused.
    expect(() => loadConfig({ REELKIT_FRAME_ANCESTORS: "https://a.example; script-src *" })).toThrow(
      /REELKIT_FRAME_ANCESTORS/,
    );
  });

  it("writes one access-log line per request, when it completes", async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger(
      { logLevel: "info" },
      "reelkit-server",
      new Writable({
        write(chunk, _encoding, done) {
          lines.push(JSON.parse(String(chunk)));
          done();
        },
      }),
    );
    app = await buildApp({ config, logger });
    app.get("/boom", async () => {
      throw new Error("secret internals");
    });
    await app.inject({ method: "GET", url: "/healthz?probe=1", remoteAddress: "203.0.113.9" });
    await app.inject({ method: "GET", url: "/boom" });
    const requests = lines.filter((l) => typeof l.reqId === "string");
    const healthz = requests.filter((l) => l.reqId === requests[0]?.reqId);
    expect(healthz).toEqual([
      expect.objectContaining({
        level: 30,
        msg: "request completed",
        method: "GET",
        url: "/healthz?probe=1",
        statusCode: 200,
        remoteAddress: "203.0.113.9",
        responseTime: expect.any(Number),
      }),
    ]);
    expect(lines.filter((l) => l.url === "/boom")).toEqual([
      expect.objectContaining({ msg: "request completed", statusCode: 500 }),
    ]);
    expect(lines.some((l) => l.msg === "incoming request")).toBe(false);
  });

  it("answers /healthz", async () => {
    app = await buildApp({ config });
    const res = await app.inject({ method: "GET", url: "/healthz" });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: "ok" });
  });

  it("serves Prometheus metrics with the latency of each route template", async () => {
    app = await buildApp({ config });
    await app.inject({ method: "GET", url: "/healthz" });
    await app.inject({ method: "GET", url: "/media/videos/abc/poster.jpg" });
    const res = await app.inject({ method: "GET", url: "/metrics" });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(res.body).toMatch(
      /reelkit_http_request_duration_seconds_count\{process="reelkit-server",method="GET",route="\/healthz",status_code="200"\} 1/,
    );
    // By template, not by URL: the media key is not a label value.
    expect(res.body).toContain('route="/media/*",status_code="404"');
    expect(res.body).not.toContain("abc");
  });

  it("returns NOT_FOUND in the error shape for unknown routes", async () => {
    app = await buildApp({ config });
    const res = await app.inject({ method: "GET", url: "/nope?x=1" });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: { code: "NOT_FOUND", message: "Route GET /nope not found" } });
  });

  it("maps validation, catalogue and unexpected errors without stack traces", async () => {
    app = await buildApp({ config });
    app.get("/v", { schema: { querystring: Type.Object({ n: Type.Integer({ maximum: 5 }) }) } }, async () => "ok");
    app.get("/gone", async () => {
      throw errors.videoNotFound("abc");
    });
    app.get("/boom", async () => {
      throw new Error("secret internals");
    });
    const v = await app.inject({ method: "GET", url: "/v?n=9" });
    expect(v.statusCode).toBe(400);
    expect(v.json().error.code).toBe("VALIDATION_FAILED");
    const g = await app.inject({ method: "GET", url: "/gone" });
    expect(g.statusCode).toBe(404);
    expect(g.json()).toEqual({ error: { code: "VIDEO_NOT_FOUND", message: "No video with id abc" } });
    const b = await app.inject({ method: "GET", url: "/boom" });
    expect(b.statusCode).toBe(500);
    expect(b.json()).toEqual({ error: { code: "INTERNAL", message: "Internal server error" } });
    expect(b.body).not.toContain("secret");
  });

  it("keeps framework errors in the error shape: malformed URLs and oversized headers", async () => {
    app = await buildApp({ config });
    const bad = await app.inject({ method: "GET", url: "/api/videos/%E0%A4%A" });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe("INVALID_URL");
    const base = await app.listen({ port: 0, host: "127.0.0.1" });
    // Node's HTTP parser answers 431 itself, before Fastify sees a request.
    const { port } = new URL(base);
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(Number(port), "127.0.0.1", () => {
        socket.write(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`);
      });
      let data = "";
      socket.on("data", (d) => (data += d));
      socket.on("close", () => resolve(data));
      socket.on("error", reject);
    });
    expect(raw).toMatch(/^HTTP\/1\.1 431 /);
    expect(raw).toContain("application/json");
    expect(JSON.parse(raw.slice(raw.indexOf("\r\n\r\n") + 4))).toEqual({
      error: { code: "HEADERS_TOO_LARGE", message: "The request headers are too large" },
    });
  });

  it("sends CORS headers for the configured origins", async () => {
    app = await buildApp({ config: { ...config, corsOrigins: ["https://site.example"] } });
    const ok = await app.inject({ method: "GET", url: "/healthz", headers: { origin: "https://site.example" } });
    expect(ok.headers["access-control-allow-origin"]).toBe("https://site.example");
    const other = await app.inject({ method: "GET", url: "/healthz", headers: { origin: "https://evil.example" } });
    expect(other.headers["access-control-allow-origin"]).toBeUndefined();
  });
});
