import fs from "node:fs/promises";
import path from "node:path";
import { LocalStorage, loadConfig } from "@reelkit/core";
import type { FastifyInstance } from "fastify";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { testAuth } from "../../test/auth.js";
import { buildApp } from "../app.js";
import { createCatalog } from "../catalog/catalog.js";
import { createTestDatabase, type TestDatabase } from "../db/test-databases.js";

let tdb: TestDatabase;
let app: FastifyInstance | undefined;
let dbClosed = false;

beforeEach(async () => {
  tdb = await createTestDatabase("embedded");
}, 60_000);
afterEach(async () => {
  await app?.close();
  app = undefined;
  if (dbClosed) await fs.rm(tdb.dataDir, { recursive: true, force: true });
  else await tdb.dispose();
  dbClosed = false;
});

const config = () => loadConfig({ REELKIT_DATA_DIR: tdb.dataDir, REELKIT_LOG_LEVEL: "silent" });

/** Every route of the app as `METHOD path`, read from Fastify's route tree. */
function routesOf(server: FastifyInstance): string[] {
  const out: string[] = [];
  const stack: string[] = [];
  for (const line of server.printRoutes({ commonPrefix: false }).split("\n")) {
    const m = /^([│├└─\s]*)(\S.*?) \(([A-Z, ]+)\)$/.exec(line);
    if (!m) continue;
    const depth = Math.floor((m[1] as string).length / 4);
    stack.length = depth;
    const segment = m[2] as string;
    // The tree prints a wildcard child without the slash before it.
    stack.push(segment === "*" && depth > 0 && !stack.join("").endsWith("/") ? "/*" : segment);
    for (const method of (m[3] as string).split(", ")) out.push(`${method} ${stack.join("")}`);
  }
  return out;
}

describe("/healthz and /readyz", () => {
  it("is live and ready when the database and storage answer", async () => {
    app = await buildApp({
      config: config(),
      catalog: createCatalog(tdb.db.prisma),
      auth: testAuth(tdb.db.prisma, config()),
    });
    expect((await app.inject({ url: "/healthz" })).json()).toEqual({ status: "ok" });
    const ready = await app.inject({ url: "/readyz" });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: "ok", checks: { database: "ok", storage: "ok" } });
  });

  it("answers 503 in the error shape, naming the database, when it stops answering", async () => {
    app = await buildApp({
      config: config(),
      catalog: createCatalog(tdb.db.prisma),
      auth: testAuth(tdb.db.prisma, config()),
    });
    await tdb.db.close();
    dbClosed = true;
    const res = await app.inject({ url: "/readyz" });
    expect(res.statusCode).toBe(503);
    expect(res.json().error.code).toBe("NOT_READY");
    expect(res.json().error.message).toMatch(/^Not ready \(database: /);
    // Liveness does not depend on the database.
    expect((await app.inject({ url: "/healthz" })).statusCode).toBe(200);
  });

  it("answers 503 naming storage when it cannot be written", async () => {
    // The readiness probe's folder is a regular file: its write fails, as on a broken mount.
    const storage = new LocalStorage(path.join(tdb.dataDir, "media"));
    await fs.mkdir(storage.root, { recursive: true });
    await fs.writeFile(path.join(storage.root, "health"), "not a directory");
    app = await buildApp({
      config: config(),
      storage,
      catalog: createCatalog(tdb.db.prisma),
      auth: testAuth(tdb.db.prisma, config()),
    });
    const res = await app.inject({ url: "/readyz" });
    expect(res.statusCode).toBe(503);
    expect(res.json().error.message).toMatch(/^Not ready \(storage: /);
    expect(res.json().error.message).not.toMatch(/database/);
  });
});

describe("/readyz caching", () => {
  it("probes storage once for calls within its window, again after it", async () => {
    const storage = new LocalStorage(path.join(tdb.dataDir, "media"));
    const put = storage.put.bind(storage);
    let puts = 0;
    storage.put = (...args: Parameters<typeof put>) => {
      puts++;
      return put(...args);
    };
    app = await buildApp({
      config: config(),
      storage,
      catalog: createCatalog(tdb.db.prisma),
      auth: testAuth(tdb.db.prisma, config()),
    });
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      const [a, b] = await Promise.all([app.inject({ url: "/readyz" }), app.inject({ url: "/readyz" })]);
      const c = await app.inject({ url: "/readyz" });
      expect([a.statusCode, b.statusCode, c.statusCode]).toEqual([200, 200, 200]);
      expect(puts).toBe(1);
      vi.advanceTimersByTime(5_000);
      expect((await app.inject({ url: "/readyz" })).statusCode).toBe(200);
      expect(puts).toBe(2);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe("a supervised database that is down", () => {
  const downFor = (ms: number) => ({ downSince: Date.now() - ms });

  it("keeps /healthz at 200 within the grace, saying the database is restarting", async () => {
    app = await buildApp({
      config: config(),
      catalog: createCatalog(tdb.db.prisma),
      auth: testAuth(tdb.db.prisma, config()),
      databaseState: downFor(1_000),
    });
    const health = await app.inject({ url: "/healthz" });
    expect(health.statusCode).toBe(200);
    expect(health.json()).toEqual({ status: "ok", database: "restarting" });
    const ready = await app.inject({ url: "/readyz" });
    expect(ready.statusCode).toBe(503);
    expect(ready.json().error.message).toMatch(/^Not ready \(database: the embedded database is restarting/);
  });

  it("fails /healthz once the outage outlasts the grace", async () => {
    app = await buildApp({
      config: config(),
      catalog: createCatalog(tdb.db.prisma),
      auth: testAuth(tdb.db.prisma, config()),
      databaseState: downFor(20_000),
    });
    const health = await app.inject({ url: "/healthz" });
    expect(health.statusCode).toBe(503);
    // Down since 20 s before the app was built (building it takes a moment on a busy machine).
    expect(health.json().error.code).toBe("DATABASE_UNAVAILABLE");
    const seconds = Number(/has been down for (\d+) s; it is being restarted$/.exec(health.json().error.message)?.[1]);
    expect(seconds).toBeGreaterThanOrEqual(20);
    expect(seconds).toBeLessThan(40);
  });

  it("answers API requests 503 with Retry-After at once, and serves them again once it is back", async () => {
    const state: { downSince: number | null } = { downSince: Date.now() };
    app = await buildApp({
      config: config(),
      catalog: createCatalog(tdb.db.prisma),
      auth: testAuth(tdb.db.prisma, config()),
      databaseState: state,
    });
    for (const [method, url] of [
      ["GET", "/api/videos"],
      ["POST", "/api/auth/sign-in/email"],
    ] as const) {
      const res = await app.inject({ method, url, headers: { origin: "http://localhost" } });
      expect(res.statusCode, url).toBe(503);
      expect(res.headers["retry-after"]).toBe("2");
      expect(res.json().error.code).toBe("DATABASE_UNAVAILABLE");
      // CORS headers are there: a page on another origin can read the answer.
      expect(res.headers["access-control-allow-origin"]).toBeDefined();
    }
    expect((await app.inject({ url: "/metrics" })).statusCode).toBe(200);
    state.downSince = null;
    expect((await app.inject({ url: "/api/videos" })).statusCode).toBe(200);
  });
});

describe("OpenAPI document", () => {
  it("is generated from the route schemas and lists every /api route", async () => {
    app = await buildApp({
      config: config(),
      catalog: createCatalog(tdb.db.prisma),
      auth: testAuth(tdb.db.prisma, config()),
    });
    await app.ready();
    const res = await app.inject({ url: "/api/openapi.json" });
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.openapi).toMatch(/^3\./);
    const documented = new Set(
      Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([p, ops]) =>
        Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`),
      ),
    );
    // tus (its own header protocol) is named in the description instead of listed as JSON routes.
    const apiRoutes = routesOf(app)
      .filter((r) => / \/api\//.test(r) && !r.startsWith("HEAD ") && !/ \/api\/uploads/.test(r))
      .map((r) => r.replace(/:(\w+)/g, "{$1}").replace(/\*$/, "{*}"));
    expect(apiRoutes.length).toBeGreaterThanOrEqual(5);
    expect(doc.info.description).toContain("tus 1.0 at /api/uploads");
    expect(Object.keys(doc.paths).filter((p) => p.startsWith("/api/uploads"))).toEqual([]);
    // Of /media, only the images made on request are described (they take parameters); files are not.
    const media = Object.keys(doc.paths).filter((p) => p.startsWith("/media"));
    expect(media.length).toBe(6);
    for (const p of media)
      expect(p).toMatch(/^\/media\/(s\/\{token\}\/)?videos\/\{id\}\/(thumbnail\.jpg|thumbnail\.webp|animated\.webp)$/);
    for (const route of apiRoutes) expect(documented, route).toContain(route);

    // Request and response schemas come from the shared contract.
    const list = doc.paths["/api/videos"].get;
    expect(list.parameters.map((p: { name: string }) => p.name).sort()).toEqual([
      "cursor",
      "duration",
      "limit",
      "maxDuration",
      "minDuration",
      "minHeight",
      "mine",
      "owner",
      "publishedAfter",
      "publishedBefore",
      "q",
      "sort",
      "tags",
    ]);
    expect(list.responses["200"].content["application/json"].schema.properties.items.items.$ref).toBe(
      "#/components/schemas/Video",
    );
    expect(doc.components.schemas.Video.required).toContain("playbackUrl");
    const notFound = doc.paths["/api/videos/{id}"].get.responses["404"].content["application/json"].schema;
    expect(notFound.properties.error.required).toEqual(["code", "message"]);
  });
});
