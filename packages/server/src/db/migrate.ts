import { createHash, randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { SqlRunner } from "./sql-runner.js";

/** `prisma/migrations` of this repository, found from this file (src or dist). */
export function defaultMigrationsDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = path.join(dir, "prisma", "migrations");
    if (existsSync(candidate)) return candidate;
    dir = path.dirname(dir);
  }
  throw new Error("prisma/migrations not found; pass migrationsDir");
}

export interface MigrationFile {
  name: string;
  sql: string;
  checksum: string;
}

export async function readMigrations(dir: string): Promise<MigrationFile[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const names = entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  const out: MigrationFile[] = [];
  for (const name of names) {
    const file = path.join(dir, name, "migration.sql");
    if (!existsSync(file)) continue;
    const sql = await readFile(file, "utf8");
    // Prisma's checksum: sha256 hex of the file's bytes.
    out.push({ name, sql, checksum: createHash("sha256").update(sql).digest("hex") });
  }
  return out;
}

// Same DDL `prisma migrate deploy` creates, so either tool can take over a database.
const CREATE_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id" VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum" VARCHAR(64) NOT NULL,
    "finished_at" TIMESTAMPTZ,
    "migration_name" VARCHAR(255) NOT NULL,
    "logs" TEXT,
    "rolled_back_at" TIMESTAMPTZ,
    "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count" INTEGER NOT NULL DEFAULT 0
)`;

/** Arbitrary constant key for pg_advisory_lock, shared by every Reelkit process. */
export const MIGRATION_LOCK_KEY = 7_246_115_301;

interface AppliedRow {
  migration_name: string;
  checksum: string;
  finished_at: unknown;
  rolled_back_at: unknown;
}

export interface MigrateResult {
  applied: string[];
}

/**
 * Applies pending migrations in name order, each in its own transaction, recording them in
 * `_prisma_migrations` like `prisma migrate deploy`. A session advisory lock serialises
 * concurrent starts on PostgreSQL. Refuses to run when an applied migration was edited or a
 * previous one failed half-way. After applying any, it refreshes the planner's statistics.
 */
export async function migrate(runner: SqlRunner, migrationsDir = defaultMigrationsDir()): Promise<MigrateResult> {
  const migrations = await readMigrations(migrationsDir);
  await runner.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK_KEY]);
  try {
    await runner.exec(CREATE_MIGRATIONS_TABLE);
    const rows = await runner.query<AppliedRow>(
      `SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations" WHERE rolled_back_at IS NULL`,
    );
    const byName = new Map(rows.map((r) => [r.migration_name, r]));
    for (const row of rows) {
      if (row.finished_at === null) {
        throw new Error(`migration ${row.migration_name} failed earlier; resolve it before starting`);
      }
    }
    const applied: string[] = [];
    for (const m of migrations) {
      const row = byName.get(m.name);
      if (row) {
        if (row.checksum !== m.checksum) {
          throw new Error(`migration ${m.name} was modified after it was applied (checksum mismatch)`);
        }
        continue;
      }
      const id = randomUUID();
      await runner.exec("BEGIN");
      try {
        await runner.exec(m.sql);
        await runner.query(
          `INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, logs, started_at, applied_steps_count)
           VALUES ($1, $2, now(), $3, NULL, now(), 1)`,
          [id, m.checksum, m.name],
        );
        await runner.exec("COMMIT");
      } catch (err) {
        await runner.exec("ROLLBACK");
        throw new Error(`migration ${m.name} failed: ${(err as Error).message}`, { cause: err });
      }
      applied.push(m.name);
    }
    // A column added to a table that already has rows has no statistics until the next
    // autovacuum analyze, and a read-mostly catalog may not get one for weeks: meanwhile the
    // planner guesses (an equality on the new column: 0.5% of the rows) and can pick a sort of
    // the whole table over an index walk, turning millisecond searches into seconds-long ones
    // (docs/benchmarks.md: catalog at a million videos). So every migration run ends with ANALYZE.
    if (applied.length > 0) await runner.exec("ANALYZE");
    return { applied };
  } finally {
    await runner.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK_KEY]);
  }
}
