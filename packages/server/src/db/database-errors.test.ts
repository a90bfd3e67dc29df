import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { PrismaPg } from "@prisma/adapter-pg";
import Fastify from "fastify";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PrismaClient } from "../generated/prisma/client.js";
import { registerErrorHandlers } from "../http/errors.js";
import { isDatabaseUnreachable } from "./database-errors.js";
import { createTestDatabase, type TestDatabase } from "./test-databases.js";

// Real failures of the real clients, no hand-made error objects: the classifier must know the
// forms they actually take.

let tdb: TestDatabase;
let empty: string;

beforeAll(async () => {
  tdb = await createTestDatabase("embedded");
  empty = await mkdtemp(path.join(os.tmpdir(), "reelkit-nosocket-"));
}, 60_000);
afterAll(async () => {
  await tdb?.dispose();
  await rm(empty, { recursive: true, force: true });
});

/** A URL of a Unix socket directory where no PostgreSQL listens (the embedded one being down). */
const missingSocketUrl = () => `postgresql://reelkit@localhost/reelkit?host=${encodeURIComponent(empty)}&port=5432`;

async function failure(work: () => Promise<unknown>): Promise<unknown> {
  try {
    await work();
  } catch (err) {
    return err;
  }
  throw new Error("expected a failure");
}

describe("isDatabaseUnreachable", () => {
  it("knows pg's missing socket", async () => {
    const client = new pg.Client({ connectionString: missingSocketUrl() });
    const err = await failure(() => client.connect());
    expect(String(err)).toMatch(/ENOENT/);
    expect(isDatabaseUnreachable(err)).toBe(true);
  });

  it("knows Prisma's form of the missing socket and of a refused TCP connection", async () => {
    const unixPrisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: missingSocketUrl() }) });
    const tcpPrisma = new PrismaClient({
      // Port 9 (discard) on loopback: nothing listens there.
      adapter: new PrismaPg({ connectionString: "postgresql://reelkit@127.0.0.1:9/reelkit" }),
    });
    try {
      expect(isDatabaseUnreachable(await failure(() => unixPrisma.video.count()))).toBe(true);
      expect(isDatabaseUnreachable(await failure(() => tcpPrisma.video.count()))).toBe(true);
    } finally {
      await unixPrisma.$disconnect();
      await tcpPrisma.$disconnect();
    }
  });

  it("knows a connection the server terminated", async () => {
    const victim = new pg.Client({ connectionString: tdb.db.url });
    victim.on("error", () => {});
    await victim.connect();
    const pid = (await victim.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0]?.pid;
    const ended = new Promise((resolve) => victim.once("end", resolve));
    await tdb.db.prisma.$queryRawUnsafe(`SELECT pg_terminate_backend(${Number(pid)})`);
    // Once the client has seen the server end it: a query sent before that may fail as a plain
    // write error (EPIPE) of a socket, which alone says nothing about whose socket it was.
    await ended;
    const err = await failure(() => victim.query("SELECT 1"));
    await victim.end().catch(() => {});
    expect(isDatabaseUnreachable(err)).toBe(true);
  });

  it("does not take a failing query, a missing file or another service's refusal for it", async () => {
    expect(isDatabaseUnreachable(await failure(() => tdb.db.prisma.$queryRawUnsafe("SELEC 1")))).toBe(false);
    expect(
      isDatabaseUnreachable(await failure(() => tdb.db.prisma.$queryRawUnsafe("SELECT * FROM no_such_table"))),
    ).toBe(false);
    expect(isDatabaseUnreachable(await failure(() => readFile(path.join(empty, "nothing"))))).toBe(false);
    expect(isDatabaseUnreachable(await failure(() => fetch("http://127.0.0.1:9/")))).toBe(false);
    expect(isDatabaseUnreachable(new Error("boom"))).toBe(false);
    expect(isDatabaseUnreachable(null)).toBe(false);
  });
});

describe("the root error handler", () => {
  it("answers 503 DATABASE_UNAVAILABLE with Retry-After for an unreachable database, 500 for other failures", async () => {
    const down = new PrismaClient({
      adapter: new PrismaPg({ connectionString: "postgresql://reelkit@127.0.0.1:9/x" }),
    });
    const app = Fastify();
    registerErrorHandlers(app);
    app.get("/down", async () => down.video.count());
    app.get("/broken", async () => tdb.db.prisma.$queryRawUnsafe("SELEC 1"));
    try {
      const res = await app.inject({ url: "/down" });
      expect(res.statusCode).toBe(503);
      expect(res.headers["retry-after"]).toBe("2");
      expect(res.json()).toEqual({
        error: { code: "DATABASE_UNAVAILABLE", message: "The database is unavailable for a moment; try again shortly" },
      });
      const broken = await app.inject({ url: "/broken" });
      expect(broken.statusCode).toBe(500);
      expect(broken.json().error.code).toBe("INTERNAL");
      expect(broken.headers["retry-after"]).toBeUndefined();
    } finally {
      await app.close();
      await down.$disconnect();
    }
  });
});
