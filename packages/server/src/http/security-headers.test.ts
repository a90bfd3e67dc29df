import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import fs from "node:fs/promises";
import https from "node:https";
import os from "node:os";
import path from "node:path";
import { loadConfig } from "@reelkit/core";
import Fastify, { type FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../app.js";
import { API_SECURITY_POLICY, mediaOrigins, pageSecurityPolicy, registerSecurityHeaders } from "./security-headers.js";

/** `directive -> sources` of a Content-Security-Policy header. */
function directives(policy: string | undefined): Record<string, string[]> {
  const parsed: Record<string, string[]> = {};
  for (const part of (policy ?? "").split(";")) {
    const [name, ...sources] = part.trim().split(/\s+/);
    if (name) parsed[name] = sources;
  }
  return parsed;
}

const opensslPath = ["/usr/bin/openssl", "/usr/local/bin/openssl"].find((p) => existsSync(p));

const env = { REELKIT_DATA_DIR: "/tmp/reelkit-csp-test", REELKIT_LOG_LEVEL: "silent" };

describe("pageSecurityPolicy", () => {
  it("is same-origin only by default, with blob: media for hls.js and no inline script or style", () => {
    const csp = directives(pageSecurityPolicy(loadConfig(env)));
    expect(csp).toEqual({
      "default-src": ["'self'"],
      "script-src": ["'self'"],
      "style-src": ["'self'"],
      "img-src": ["'self'", "blob:"],
      "media-src": ["'self'", "blob:"],
      "connect-src": ["'self'"],
      "worker-src": ["'self'", "blob:"],
      "object-src": ["'none'"],
      "base-uri": ["'self'"],
      "form-action": ["'self'"],
      "frame-ancestors": ["*"],
    });
  });

  it("lets media, images and fetches come from REELKIT_PUBLIC_URL and the bucket's public URL", () => {
    const config = loadConfig({
      ...env,
      REELKIT_PUBLIC_URL: "https://media.example/reelkit/",
      REELKIT_STORAGE: "s3",
      S3_BUCKET: "videos",
      S3_PUBLIC_BASE_URL: "https://cdn.example:8443/videos",
      REELKIT_FRAME_ANCESTORS: "'self', https://blog.example/post",
    });
    expect(mediaOrigins(config)).toEqual(["https://media.example", "https://cdn.example:8443"]);
    const csp = directives(pageSecurityPolicy(config));
    for (const name of ["img-src", "media-src", "connect-src"]) {
      expect(csp[name], name).toEqual(
        expect.arrayContaining(["'self'", "https://media.example", "https://cdn.example:8443"]),
      );
    }
    for (const name of ["default-src", "script-src", "style-src", "worker-src"]) {
      expect(csp[name], name).not.toContain("https://media.example");
    }
    expect(csp["frame-ancestors"]).toEqual(["'self'", "https://blog.example"]);
    expect(pageSecurityPolicy(config)).not.toMatch(/unsafe-|\*(?!;|$)|data:/);
  });

  it("names an origin once when the media and public URLs share it", () => {
    const config = loadConfig({
      ...env,
      REELKIT_PUBLIC_URL: "https://video.example",
      REELKIT_STORAGE: "s3",
      S3_BUCKET: "videos",
      S3_PUBLIC_BASE_URL: "https://video.example/bucket",
    });
    expect(mediaOrigins(config)).toEqual(["https://video.example"]);
  });
});

describe("security headers of the app", () => {
  let tmp: string;
  let app: FastifyInstance;
  beforeAll(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), "reelkit-csp-"));
    const dist = path.join(tmp, "dist");
    await fs.mkdir(path.join(dist, "assets"), { recursive: true });
    await fs.writeFile(path.join(dist, "index.html"), "<!doctype html><title>demo</title>");
    await fs.writeFile(path.join(dist, "assets", "index-AbC123.js"), "export {};");
    const config = loadConfig({
      ...env,
      REELKIT_DATA_DIR: tmp,
      REELKIT_DEMO_DIR: dist,
      REELKIT_PUBLIC_URL: "https://media.example",
      REELKIT_FRAME_ANCESTORS: "'self', https://blog.example",
    });
    app = await buildApp({ config });
  });
  afterAll(async () => {
    await app?.close();
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it("gives the demo's pages and files their policy, with the public URL's origin for media", async () => {
    for (const url of ["/", "/watch/abc", "/assets/index-AbC123.js"]) {
      const res = await app.inject({ method: "GET", url, headers: { accept: "text/html" } });
      expect(res.statusCode, url).toBe(200);
      const csp = directives(res.headers["content-security-policy"] as string);
      expect(csp["default-src"], url).toEqual(["'self'"]);
      expect(csp["media-src"], url).toEqual(["'self'", "blob:", "https://media.example"]);
      expect(csp["img-src"], url).toContain("https://media.example");
      expect(csp["connect-src"], url).toContain("https://media.example");
      expect(csp["frame-ancestors"], url).toEqual(["'self'", "https://blog.example"]);
    }
  });

  it("keeps the API's strict policy on JSON, media and what the demo does not answer", async () => {
    for (const url of ["/healthz", "/api/videos/nope", "/media/videos/abc/poster.jpg", "/assets/missing-1.js"]) {
      const res = await app.inject({ method: "GET", url });
      expect(res.headers["content-security-policy"], url).toBe(API_SECURITY_POLICY);
    }
    expect(API_SECURITY_POLICY).toBe("default-src 'none'; frame-ancestors 'none'");
    // Better Auth's error page styles itself inline, and runs no script.
    const authError = await app.inject({ method: "GET", url: "/api/auth/error?error=state_mismatch" });
    expect(authError.headers["content-security-policy"]).toBe(
      "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    );
  });

  it("sends no Strict-Transport-Security over plain http, even when the client claims https", async () => {
    for (const headers of [{}, { "x-forwarded-proto": "https" }]) {
      const res = await app.inject({ method: "GET", url: "/", headers });
      expect(res.headers["strict-transport-security"]).toBeUndefined();
      expect(res.headers["x-content-type-options"]).toBe("nosniff");
    }
  });
});

describe("Strict-Transport-Security", () => {
  async function appWith(trustProxy: boolean): Promise<FastifyInstance> {
    const app = Fastify({ trustProxy });
    registerSecurityHeaders(app);
    app.get("/", async () => ({ ok: true }));
    await app.ready();
    return app;
  }

  it("is sent over https as a trusted proxy reports it (X-Forwarded-Proto), and only then", async () => {
    const behindProxy = await appWith(true);
    const https = await behindProxy.inject({ method: "GET", url: "/", headers: { "x-forwarded-proto": "https" } });
    expect(https.headers["strict-transport-security"]).toBe("max-age=15552000");
    const http = await behindProxy.inject({ method: "GET", url: "/", headers: { "x-forwarded-proto": "http" } });
    expect(http.headers["strict-transport-security"]).toBeUndefined();
    await behindProxy.close();

    // Without a trusted proxy the header is only the client's word and does not count.
    const direct = await appWith(false);
    const claimed = await direct.inject({ method: "GET", url: "/", headers: { "x-forwarded-proto": "https" } });
    expect(claimed.headers["strict-transport-security"]).toBeUndefined();
    await direct.close();
  });

  it.skipIf(!opensslPath)("is sent on a TLS connection to the server itself", async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "reelkit-tls-"));
    try {
      const [key, cert] = [path.join(dir, "key.pem"), path.join(dir, "cert.pem")];
      execFileSync(
        opensslPath as string,
        [
          ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"],
          ...["-subj", "/CN=localhost", "-days", "1", "-keyout", key, "-out", cert],
        ],
        { stdio: "ignore" },
      );
      const app = Fastify({ https: { key: await fs.readFile(key), cert: await fs.readFile(cert) } });
      registerSecurityHeaders(app);
      app.get("/", async () => ({ ok: true }));
      const address = await app.listen({ port: 0, host: "127.0.0.1" });
      try {
        const hsts = await new Promise<string | undefined>((resolve, reject) => {
          https
            .get(`${address}/`, { rejectUnauthorized: false }, (res) => {
              res.resume();
              resolve(res.headers["strict-transport-security"]);
            })
            .on("error", reject);
        });
        expect(hsts).toBe("max-age=15552000");
      } finally {
        await app.close();
      }
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
