import { mkdir } from "node:fs/promises";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { pg_trgm } from "@electric-sql/pglite/contrib/pg_trgm";
import { PrismaPg } from "@prisma/adapter-pg";
import type { Config, Logger } from "@reelkit/core";
import pg from "pg";
import { PrismaPGlite } from "pglite-prisma-adapter";
import { PrismaClient } from "../generated/prisma/client.js";
import { migrate } from "./migrate.js";
import { applySearchLanguage, TRGM_SESSION_SETTINGS } from "./search-settings.js";
import { pgliteRunner, pgRunner } from "./sql-runner.js";

export interface Database {
  prisma: PrismaClient;
  kind: "pglite" | "postgres";
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** Defaults to the repository's prisma/migrations. */
  migrationsDir?: string;
}

/**
 * Opens the catalog database and brings its schema up to date: PGlite in `<dataDir>/db` when
 * no DATABASE_URL is set, else PostgreSQL.
 */
export async function openDatabase(
  config: Pick<Config, "dataDir" | "databaseUrl"> & Partial<Pick<Config, "searchLanguage">>,
  logger?: Logger,
  options: OpenDatabaseOptions = {},
): Promise<Database> {
  if (config.databaseUrl === null) {
    const dir = path.join(config.dataDir, "db");
    await mkdir(dir, { recursive: true });
    const db = await PGlite.create(dir, { extensions: { pg_trgm } });
    try {
      const runner = pgliteRunner(db);
      const { applied } = await migrate(runner, options.migrationsDir);
      if (applied.length) logger?.info({ applied }, "database migrated");
      await applySearchLanguage(runner, config.searchLanguage ?? "simple", logger);
      // PGlite is one session: its settings hold for every later query.
      for (const [name, value] of Object.entries(TRGM_SESSION_SETTINGS)) await db.query(`SET ${name} = ${value}`);
    } catch (err) {
      await db.close();
      throw err;
    }
    const prisma = new PrismaClient({ adapter: new PrismaPGlite(db) });
    return {
      prisma,
      kind: "pglite",
      async close() {
        await prisma.$disconnect();
        await db.close();
      },
    };
  }
  const client = new pg.Client({ connectionString: config.databaseUrl });
  await client.connect();
  try {
    const runner = pgRunner(client);
    const { applied } = await migrate(runner, options.migrationsDir);
    if (applied.length) logger?.info({ applied }, "database migrated");
    await applySearchLanguage(runner, config.searchLanguage ?? "simple", logger);
  } finally {
    await client.end();
  }
  // Every pooled connection starts with the search settings (startup options, no extra round trip).
  const startup = Object.entries(TRGM_SESSION_SETTINGS)
    .map(([name, value]) => `-c ${name}=${value}`)
    .join(" ");
  const prisma = new PrismaClient({
    adapter: new PrismaPg({ connectionString: config.databaseUrl, options: startup }),
  });
  return {
    prisma,
    kind: "postgres",
    async close() {
      await prisma.$disconnect();
    },
  };
}
