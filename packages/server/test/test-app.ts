import path from "node:path";
import { type Config, LocalStorage, loadConfig } from "@reelkit/core";
import type { FastifyInstance } from "fastify";
import { type AppDeps, buildApp } from "../src/app.js";
import type { AuthService } from "../src/auth/auth-service.js";
import { type Catalog, createCatalog } from "../src/catalog/catalog.js";
import { createTestDatabase, type TestDatabase, type TestEngine } from "../src/db/test-databases.js";
import type { PrismaClient } from "../src/generated/prisma/client.js";
import { WebhookRepository } from "../src/webhooks/webhook-repository.js";
import { testAuth } from "./auth.js";

export interface TestAppOptions {
  /** A fresh database of this engine (embedded by default)… */
  engine?: TestEngine;
  /** …or this one, shared with other apps (instances on one database); the caller disposes it. */
  tdb?: TestDatabase;
  /** Environment for `loadConfig`, on top of the data directory and a silent log. */
  env?: Record<string, string>;
  /** The catalog, from the database's Prisma client; `createCatalog(prisma)` by default. */
  catalog?: (prisma: PrismaClient) => Catalog;
  /** Further dependencies of `buildApp`, as they are (a bus, an outbox, metrics…). */
  deps?: Omit<Partial<AppDeps>, "config" | "storage" | "catalog" | "auth">;
}

/** The real app, listening on 127.0.0.1, with what a test reaches into. */
export interface TestApp {
  app: FastifyInstance;
  base: string;
  tdb: TestDatabase;
  config: Config;
  storage: LocalStorage;
  catalog: Catalog;
  auth: AuthService;
  webhooks: WebhookRepository;
  prisma: PrismaClient;
  /** Closes the app, and the database when the kit made it. */
  close(): Promise<void>;
}

/**
 * The one way tests stand up the server in-process: a migrated database, local storage in its
 * data directory, the real catalog and AuthService, `buildApp`, a port on 127.0.0.1.
 */
export async function startTestApp(opts: TestAppOptions = {}): Promise<TestApp> {
  const tdb = opts.tdb ?? (await createTestDatabase(opts.engine ?? "embedded"));
  const config = loadConfig({ REELKIT_DATA_DIR: tdb.dataDir, REELKIT_LOG_LEVEL: "silent", ...opts.env });
  const storage = new LocalStorage(path.join(tdb.dataDir, "media"));
  const catalog = (opts.catalog ?? createCatalog)(tdb.db.prisma);
  const auth = testAuth(tdb.db.prisma, config);
  const webhooks = new WebhookRepository(tdb.db.prisma);
  const app = await buildApp({ webhooks, ...opts.deps, config, storage, catalog, auth });
  const base = await app.listen({ port: 0, host: "127.0.0.1" });
  return {
    app,
    base,
    tdb,
    config,
    storage,
    catalog,
    auth,
    webhooks,
    prisma: tdb.db.prisma,
    async close() {
      await app.close();
      if (!opts.tdb) await tdb.dispose();
    },
  };
}
