import type { FastifyInstance } from "fastify";
import { errors } from "./errors.js";
import type { DatabaseState } from "./system-routes.js";

/**
 * While the embedded database is known to be down (restarting after an unexpected exit), API
 * requests are answered 503 `DATABASE_UNAVAILABLE` with `Retry-After` at once, before any of
 * them waits on a connection or reads a failed session lookup as "signed out". Health checks,
 * metrics and the demo's static files stay served. Registered after CORS, so browsers on other
 * origins can read the answer.
 */
export function registerDatabaseGate(app: FastifyInstance, database: DatabaseState): void {
  app.addHook("onRequest", async (request) => {
    if (database.downSince !== null && request.url.startsWith("/api/")) throw errors.databaseUnavailable();
  });
}
