import path from "node:path";
import { type Config, LocalStorage, loadConfig } from "@reelkit/core";
import type { FastifyInstance } from "fastify";
import { buildApp } from "../src/app.js";
import { AuthService } from "../src/auth/auth-service.js";
import { createCatalog } from "../src/catalog/catalog.js";
import { createTestDatabase, type TestDatabase } from "../src/db/test-databases.js";
import type { PrismaClient } from "../src/generated/prisma/client.js";

/** A fixed secret for tests (a real server generates or is given one). */
export const TEST_SECRET = "reelkit-test-secret-0123456789abcdefghijklmnop";

/** The real AuthService on a test database. */
export function testAuth(prisma: PrismaClient, config: Config): AuthService {
  return new AuthService({ config, prisma, secret: TEST_SECRET });
}

export interface AuthTestServer {
  app: FastifyInstance;
  base: string;
  tdb: TestDatabase;
  auth: AuthService;
  prisma: PrismaClient;
  close(): Promise<void>;
}

/** The real app with the real AuthService on a fresh embedded database, listening on 127.0.0.1. */
export async function startAuthTestServer(env: Record<string, string> = {}): Promise<AuthTestServer> {
  const tdb = await createTestDatabase("embedded");
  const config = loadConfig({ REELKIT_DATA_DIR: tdb.dataDir, REELKIT_LOG_LEVEL: "silent", ...env });
  const auth = testAuth(tdb.db.prisma, config);
  const app = await buildApp({
    config,
    storage: new LocalStorage(path.join(tdb.dataDir, "media")),
    catalog: createCatalog(tdb.db.prisma),
    auth,
  });
  const base = await app.listen({ port: 0, host: "127.0.0.1" });
  return {
    app,
    base,
    tdb,
    auth,
    prisma: tdb.db.prisma,
    async close() {
      await app.close();
      await tdb.dispose();
    },
  };
}
