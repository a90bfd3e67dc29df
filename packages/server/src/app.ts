import cors from "@fastify/cors";
import { type Config, createStorage, type Logger, type Storage } from "@reelkit/core";
import Fastify, { type FastifyInstance } from "fastify";
import { registerErrorHandlers } from "./http/errors.js";
import { mediaRoutes } from "./media/media-routes.js";
import { type UploadCatalog, uploadRoutes } from "./uploads/upload-routes.js";

export interface AppDeps {
  config: Config;
  /** Pino logger; Fastify's own logger is disabled when absent. */
  logger?: Logger;
  /** Object storage; `createStorage(config)` when absent. */
  storage?: Storage;
  /** The catalog; the upload and video routes are registered only when it is given. */
  catalog?: UploadCatalog;
}

/** Builds the Reelkit HTTP app with every route registered and no port bound. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config, logger } = deps;
  const storage = deps.storage ?? createStorage(config);
  // The pino instance narrows Fastify's logger type; routes only need the base logger API.
  const app = Fastify({
    loggerInstance: logger,
    // Validation errors reach the root handler as `err.validation`.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: true, useDefaults: true } },
  }) as unknown as FastifyInstance;

  registerErrorHandlers(app);
  await app.register(cors, {
    origin: config.corsOrigins.includes("*") ? true : config.corsOrigins,
    exposedHeaders: ["Location", "Upload-Offset", "Upload-Length", "Tus-Resumable", "Reelkit-Video-Id"],
  });

  app.get("/healthz", async () => ({ status: "ok" }));
  await app.register(mediaRoutes, { storage });
  if (deps.catalog) {
    await app.register(uploadRoutes, { config, storage, catalog: deps.catalog, logger });
  }

  return app;
}
