import path from "node:path";
import { PrismaPg } from "@prisma/adapter-pg";
import { type Config, DEFAULT_SEARCH_LANGUAGE, type Logger } from "@reelkit/core";
import pg from "pg";
import { PrismaClient } from "../generated/prisma/client.js";
import { type ChangeFeed, PostgresChangeFeed } from "./change-feed.js";
import { startEmbeddedPostgres } from "./embedded-postgres.js";
import { migrate } from "./migrate.js";
import type { RestartPolicy } from "./restart-policy.js";
import { applySearchLanguage, TRGM_SESSION_SETTINGS } from "./search-settings.js";
import { pgRunner } from "./sql-runner.js";

export interface Database {
  prisma: PrismaClient;
  /** `embedded`: the PostgreSQL server Reelkit runs itself in `<dataDir>/db`; `postgres`: DATABASE_URL. */
  kind: "embedded" | "postgres";
  /** The connection URL (the embedded one is a Unix socket only this user can open). */
  url: string;
  /** Catalog changes every instance on this database hears (LISTEN/NOTIFY). */
  changes: ChangeFeed;
  /**
   * When the embedded database went down (ms since the epoch) while it is being restarted, else
   * null. Always null for DATABASE_URL: that server's outages are seen as failing queries only.
   */
  readonly downSince: number | null;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** Defaults to the repository's prisma/migrations. */
  migrationsDir?: string;
  /** Restarts of an embedded database that exited unexpectedly; false: none. */
  restart?: RestartPolicy | false;
  /**
   * The embedded database exited and could not be restarted (see RestartPolicy): the process
   * cannot serve any more and should exit so that its service manager restarts it.
   */
  onDatabaseLost?: (err: Error) => void;
}

interface PrepareOptions {
  logger: Logger | undefined;
  migrationsDir: string | undefined;
  searchLanguage: string;
}

/** Migrates, then makes the stored search vectors use the configured language. */
async function prepareAt(url: string, { logger, migrationsDir, searchLanguage }: PrepareOptions): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const runner = pgRunner(client);
    const { applied } = await migrate(runner, migrationsDir);
    if (applied.length) logger?.info({ applied }, "database migrated");
    await applySearchLanguage(runner, searchLanguage, logger);
  } finally {
    await client.end();
  }
}

/** A Prisma client whose every pooled connection starts with the search settings (no extra round trip). */
function prismaAt(url: string): PrismaClient {
  const options = Object.entries(TRGM_SESSION_SETTINGS)
    .map(([name, value]) => `-c ${name}=${value}`)
    .join(" ");
  return new PrismaClient({ adapter: new PrismaPg({ connectionString: url, options }) });
}

/**
 * Opens the catalog database and brings its schema up to date: when no DATABASE_URL is set, an
 * embedded PostgreSQL server in `<dataDir>/db` (a child process), else the PostgreSQL at that URL.
 * Both are reached through `@prisma/adapter-pg`.
 */
export async function openDatabase(
  config: Pick<Config, "dataDir" | "databaseUrl"> & Partial<Pick<Config, "searchLanguage">>,
  logger?: Logger,
  options: OpenDatabaseOptions = {},
): Promise<Database> {
  const prepare = {
    logger,
    migrationsDir: options.migrationsDir,
    searchLanguage: config.searchLanguage ?? DEFAULT_SEARCH_LANGUAGE,
  };
  if (config.databaseUrl === null) {
    const server = await startEmbeddedPostgres({
      dir: path.join(config.dataDir, "db"),
      logger,
      restart: options.restart,
      onGiveUp: options.onDatabaseLost,
    });
    try {
      await prepareAt(server.url, prepare);
    } catch (err) {
      await server.stop();
      throw err;
    }
    const prisma = prismaAt(server.url);
    const changes = new PostgresChangeFeed(server.url, logger);
    await changes.start();
    return {
      prisma,
      kind: "embedded",
      url: server.url,
      changes,
      get downSince() {
        return server.downSince;
      },
      async close() {
        await changes.close();
        await prisma.$disconnect();
        await server.stop();
      },
    };
  }
  const url = config.databaseUrl;
  await prepareAt(url, prepare);
  const prisma = prismaAt(url);
  const changes = new PostgresChangeFeed(url, logger);
  await changes.start();
  return {
    prisma,
    kind: "postgres",
    url,
    changes,
    downSince: null,
    async close() {
      await changes.close();
      await prisma.$disconnect();
    },
  };
}
