import { randomUUID } from "node:crypto";
import { readdirSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { describeWith } from "../../../../test/engines.js";
import { openDatabase } from "./database.js";
import { defaultMigrationsDir } from "./migrate.js";
import { postgresMissing } from "./test-databases.js";

/** Every migration folder is applied once, whatever their number. */
function migrationCount(): number {
  return readdirSync(defaultMigrationsDir(), { withFileTypes: true }).filter((e) => e.isDirectory()).length;
}

describe("openDatabase (embedded PostgreSQL)", () => {
  it("creates <dataDir>/db, migrates once and keeps data across restarts", async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), "reelkit-open-"));
    try {
      const first = await openDatabase({ dataDir, databaseUrl: null });
      expect(first.kind).toBe("embedded");
      const id = randomUUID();
      await first.prisma.video.create({ data: { id, title: "kept" } });
      await first.close();

      const second = await openDatabase({ dataDir, databaseUrl: null });
      expect((await second.prisma.video.findUnique({ where: { id } }))?.title).toBe("kept");
      const rows = await second.prisma.$queryRawUnsafe<{ n: number }[]>(
        `SELECT count(*)::int AS n FROM "_prisma_migrations"`,
      );
      expect(rows[0]?.n).toBe(migrationCount());
      await second.close();

      // A new search language rewrites the stored vectors: English stems "running" to "run".
      const english = await openDatabase({ dataDir, databaseUrl: null, searchLanguage: "english" });
      const hits = await english.prisma.$queryRawUnsafe<{ id: string }[]>(
        `UPDATE video SET description = 'running dogs' WHERE id = $1::uuid RETURNING id::text`,
        id,
      );
      expect(hits).toHaveLength(1);
      const found = await english.prisma.$queryRawUnsafe<{ n: number }[]>(
        `SELECT count(*)::int AS n FROM video WHERE search @@ websearch_to_tsquery(reelkit_search_language(), 'runs kept')`,
      );
      expect(found[0]?.n).toBe(1);
      await english.close();
      await expect(openDatabase({ dataDir, databaseUrl: null, searchLanguage: "klingon" })).rejects.toThrow(
        /REELKIT_SEARCH_LANGUAGE/,
      );
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});

describeWith("postgres", postgresMissing, "openDatabase (PostgreSQL)", () => {
  it("two processes starting at once migrate exactly once", async () => {
    const base = process.env.DATABASE_URL_TEST ?? "";
    const name = `reelkit_open_${Date.now()}`;
    const admin = new pg.Client({ connectionString: base });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${name}"`);
    const url = new URL(base);
    url.pathname = `/${name}`;
    const dataDir = await mkdtemp(path.join(tmpdir(), "reelkit-open-"));
    try {
      const [a, b] = await Promise.all([
        openDatabase({ dataDir, databaseUrl: url.toString() }),
        openDatabase({ dataDir, databaseUrl: url.toString() }),
      ]);
      expect(a.kind).toBe("postgres");
      const rows = await a.prisma.$queryRawUnsafe<{ n: number }[]>(
        `SELECT count(*)::int AS n FROM "_prisma_migrations"`,
      );
      expect(rows[0]?.n).toBe(migrationCount());
      await b.prisma.video.create({ data: { id: randomUUID() } });
      expect(await a.prisma.video.count()).toBe(1);
      await a.close();
      await b.close();
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await admin.end();
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});
