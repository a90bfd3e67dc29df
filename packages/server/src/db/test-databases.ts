import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { type Database, openDatabase } from "./database.js";

/** `embedded`: exactly what `npm start` runs (PostgreSQL in `<dataDir>/db`); `postgres`: DATABASE_URL_TEST. */
export type TestEngine = "embedded" | "postgres";

export interface TestDatabase {
  db: Database;
  /** PostgreSQL URL of the fresh database (postgres only). */
  url: string | null;
  dataDir: string;
  dispose(): Promise<void>;
}

export const postgresMissing = process.env.DATABASE_URL_TEST ? null : "DATABASE_URL_TEST is not set";

/**
 * A fresh, migrated database for one test file: the embedded server in a temp dir, or a new database
 * created on the DATABASE_URL_TEST server (dropped afterwards).
 */
export async function createTestDatabase(engine: TestEngine): Promise<TestDatabase> {
  const dataDir = await mkdtemp(path.join(tmpdir(), "reelkit-db-"));
  if (engine === "embedded") {
    const db = await openDatabase({ dataDir, databaseUrl: null });
    return {
      db,
      url: null,
      dataDir,
      async dispose() {
        await db.close();
        await rm(dataDir, { recursive: true, force: true });
      },
    };
  }
  const base = process.env.DATABASE_URL_TEST;
  if (!base) throw new Error("DATABASE_URL_TEST is not set");
  const name = `reelkit_test_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const url = new URL(base);
  url.pathname = `/${name}`;
  const db = await openDatabase({ dataDir, databaseUrl: url.toString() });
  return {
    db,
    url: url.toString(),
    dataDir,
    async dispose() {
      await db.close();
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await c.end();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
