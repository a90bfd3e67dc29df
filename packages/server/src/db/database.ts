import path from "node:path";
import { PrismaPg } from "@prisma/adapter-pg";
import type { Config, Logger } from "@reelkit/core";
import pg from "pg";
import { PrismaClient } from "../generated/prisma/client.js";
import { startEmbeddedPostgres } from "./embedded-postgres.js";
import { migrate } from "./migrate.js";
import { pgRunner } from "./sql-runner.js";

export interface Database {
  prisma: PrismaClient;
  /** `embedded`: the PostgreSQL server Reelkit runs itself in `<dataDir>/db`; `postgres`: DATABASE_URL. */
  kind: "embedded" | "postgres";
  /** The connection URL (the embedded one is a Unix socket only this user can open). */
  url: string;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** Defaults to the repository's prisma/migrations. */
  migrationsDir?: string;
}

async function migrateAt(url: string, logger: Logger | undefined, migrationsDir: string | undefined): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { applied } = await migrate(pgRunner(client), migrationsDir);
    if (applied.length) logger?.info({ applied }, "database migrated");
  } finally {
    await client.end();
  }
}

/**
 * Opens the catalog database and brings its schema up to date: when no DATABASE_URL is set, an
 * embedded PostgreSQL server in `<dataDir>/db` (a child process), else the PostgreSQL at that URL.
 * Both are reached through `@prisma/adapter-pg`.
 */
export async function openDatabase(
  config: Pick<Config, "dataDir" | "databaseUrl">,
  logger?: Logger,
  options: OpenDatabaseOptions = {},
): Promise<Database> {
  if (config.databaseUrl === null) {
    const server = await startEmbeddedPostgres({ dir: path.join(config.dataDir, "db"), logger });
    try {
      await migrateAt(server.url, logger, options.migrationsDir);
    } catch (err) {
      await server.stop();
      throw err;
    }
    const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: server.url }) });
    return {
      prisma,
      kind: "embedded",
      url: server.url,
      async close() {
        await prisma.$disconnect();
        await server.stop();
      },
    };
  }
  const url = config.databaseUrl;
  await migrateAt(url, logger, options.migrationsDir);
  const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: url }) });
  return {
    prisma,
    kind: "postgres",
    url,
    async close() {
      await prisma.$disconnect();
    },
  };
}
