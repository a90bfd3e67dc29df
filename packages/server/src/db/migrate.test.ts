import { cp, mkdtemp, readdir, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type EmbeddedPostgres, startEmbeddedPostgres } from "./embedded-postgres.js";
import { defaultMigrationsDir, migrate, readMigrations } from "./migrate.js";
import { pgRunner, type SqlRunner } from "./sql-runner.js";

describe("migrate (embedded PostgreSQL)", () => {
  let serverDir: string;
  let server: EmbeddedPostgres;
  let dir: string;
  let client: pg.Client;
  let n = 0;
  beforeAll(async () => {
    serverDir = await mkdtemp(path.join(tmpdir(), "reelkit-migrate-db-"));
    server = await startEmbeddedPostgres({ dir: path.join(serverDir, "db") });
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
    await rm(serverDir, { recursive: true, force: true });
  });
  // An empty database per test on the one server.
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "reelkit-migrate-"));
    await cp(defaultMigrationsDir(), path.join(dir, "migrations"), { recursive: true });
    const admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
    const name = `migrate_${++n}`;
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const url = new URL(server.url);
    url.pathname = `/${name}`;
    client = new pg.Client({ connectionString: url.toString() });
    await client.connect();
  });
  afterEach(async () => {
    await client.end();
    await rm(dir, { recursive: true, force: true });
  });
  const runnerOf = (): SqlRunner => pgRunner(client);

  it("applies every migration once and records it like prisma migrate deploy", async () => {
    const runner = runnerOf();
    const files = await readMigrations(path.join(dir, "migrations"));
    const first = await migrate(runner, path.join(dir, "migrations"));
    expect(first.applied).toEqual(files.map((f) => f.name));
    const second = await migrate(runner, path.join(dir, "migrations"));
    expect(second.applied).toEqual([]);
    const rows = await runner.query<{ migration_name: string; checksum: string; applied_steps_count: number }>(
      `SELECT migration_name, checksum, applied_steps_count, finished_at FROM "_prisma_migrations" ORDER BY migration_name`,
    );
    expect(rows.map((r) => [r.migration_name, r.checksum, r.applied_steps_count])).toEqual(
      files.map((f) => [f.name, f.checksum, 1]),
    );
    expect(files[0]?.checksum).toMatch(/^[0-9a-f]{64}$/);
  });

  it("applies a new migration folder later, in order", async () => {
    const runner = runnerOf();
    await migrate(runner, path.join(dir, "migrations"));
    await cp(path.join(dir, "migrations", "20261121000000_init"), path.join(dir, "migrations", "20991231000000_more"), {
      recursive: true,
    });
    await writeFile(
      path.join(dir, "migrations", "20991231000000_more", "migration.sql"),
      `ALTER TABLE "video" ADD COLUMN "extra" TEXT;`,
    );
    const res = await migrate(runner, path.join(dir, "migrations"));
    expect(res.applied).toEqual(["20991231000000_more"]);
    const cols = await runner.query(`SELECT 1 FROM information_schema.columns WHERE column_name = 'extra'`);
    expect(cols).toHaveLength(1);
  });

  it("gives the planner statistics for a column a migration adds to a table with rows", async () => {
    const runner = runnerOf();
    const migrations = path.join(dir, "migrations");
    await migrate(runner, migrations);
    await runner.exec(`CREATE TABLE "t" ("id" INT); INSERT INTO "t" SELECT generate_series(1, 1000); ANALYZE "t"`);
    await cp(path.join(migrations, "20261121000000_init"), path.join(migrations, "20991231000000_kind"), {
      recursive: true,
    });
    await writeFile(
      path.join(migrations, "20991231000000_kind", "migration.sql"),
      `ALTER TABLE "t" ADD COLUMN "kind" TEXT NOT NULL DEFAULT 'a';`,
    );
    const stats = () =>
      runner.query<{ n_distinct: number }>(
        `SELECT n_distinct FROM pg_stats WHERE tablename = 't' AND attname = 'kind'`,
      );
    // Without an ANALYZE the new column has none (the planner would guess).
    await runner.exec(`ALTER TABLE "t" ADD COLUMN "probe" INT DEFAULT 0`);
    expect(await runner.query(`SELECT 1 FROM pg_stats WHERE tablename = 't' AND attname = 'probe'`)).toHaveLength(0);
    await migrate(runner, migrations);
    expect((await stats()).map((r) => Number(r.n_distinct))).toEqual([1]);
  });

  it("gives users from before channels a unique handle made from their address", async () => {
    const runner = runnerOf();
    const migrations = path.join(dir, "migrations");
    const held = path.join(dir, "held");
    // The database as it was before the channels migration, with accounts in it.
    const later = (await readdir(migrations)).filter((name) => name >= "20261211200000_channels");
    await cp(migrations, held, { recursive: true });
    for (const name of later) await rm(path.join(migrations, name), { recursive: true });
    await migrate(runner, migrations);
    const emails = [
      "Jane.Doe@example.com",
      "jane.doe@other.org",
      "jane-doe@third.net",
      "a@x.org",
      "李@x.org",
      "__@x.org",
    ];
    for (const [i, email] of emails.entries()) {
      await runner.query(`INSERT INTO "auth_user" ("id", "name", "email", "created_at") VALUES ($1, $2, $3, $4)`, [
        `u${i}`,
        `User ${i}`,
        email,
        new Date(Date.UTC(2026, 0, 1 + i)),
      ]);
    }
    for (const name of later) await rename(path.join(held, name), path.join(migrations, name));
    await migrate(runner, migrations);
    const rows = await runner.query<{ id: string; handle: string }>(
      `SELECT "id", "handle" FROM "auth_user" ORDER BY "id"`,
    );
    expect(rows.map((r) => r.handle)).toEqual(["jane-doe", "jane-doe-2", "jane-doe-3", "a00", "user", "user-2"]);
    // The column is required and unique from now on.
    await expect(
      runner.query(`INSERT INTO "auth_user" ("id", "name", "email", "handle") VALUES ('x', 'X', 'x@x.org', 'a00')`),
    ).rejects.toThrow(/auth_user_handle_key/);
    await expect(
      runner.query(`INSERT INTO "auth_user" ("id", "name", "email") VALUES ('y', 'Y', 'y@x.org')`),
    ).rejects.toThrow(/handle/);
  });

  it("refuses to start when an applied migration was edited", async () => {
    const runner = runnerOf();
    await migrate(runner, path.join(dir, "migrations"));
    await writeFile(path.join(dir, "migrations", "20261121000000_init", "migration.sql"), "SELECT 1;");
    await expect(migrate(runner, path.join(dir, "migrations"))).rejects.toThrow(/checksum mismatch/);
  });

  it("rolls back a failing migration and records nothing", async () => {
    const runner = runnerOf();
    await migrate(runner, path.join(dir, "migrations"));
    await cp(path.join(dir, "migrations", "20261121000000_init"), path.join(dir, "migrations", "20991231000000_bad"), {
      recursive: true,
    });
    await writeFile(
      path.join(dir, "migrations", "20991231000000_bad", "migration.sql"),
      `ALTER TABLE "video" ADD COLUMN "half" TEXT; SELECT no_such_function();`,
    );
    await expect(migrate(runner, path.join(dir, "migrations"))).rejects.toThrow(/20991231000000_bad failed/);
    const cols = await runner.query(`SELECT 1 FROM information_schema.columns WHERE column_name = 'half'`);
    expect(cols).toHaveLength(0);
    const rows = await runner.query(`SELECT 1 FROM "_prisma_migrations" WHERE migration_name = '20991231000000_bad'`);
    expect(rows).toHaveLength(0);
  });
});
