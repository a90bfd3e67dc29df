import cors from "@fastify/cors";
import {
  type Bus,
  type Config,
  createMetrics,
  createStorage,
  type Logger,
  type Metrics,
  registerGauge,
  type Storage,
} from "@reelkit/core";
import { resolveBinaries } from "@reelkit/transcoder";
import type { Locker } from "@tus/server";
import Fastify, { type FastifyInstance } from "fastify";
import { authRoutes } from "./auth/auth-routes.js";
import type { AuthService } from "./auth/auth-service.js";
import type { Catalog } from "./catalog/catalog.js";
import type { OutboxRepository } from "./catalog/outbox.js";
import { AccessLog } from "./http/access-log.js";
import { adminRoutes } from "./http/admin-routes.js";
import { apiKeyRoutes } from "./http/api-key-routes.js";
import { channelRoutes } from "./http/channel-routes.js";
import { CORS_ALLOWED_HEADERS, CORS_EXPOSED_HEADERS, CORS_METHODS } from "./http/cors.js";
import { registerDatabaseGate } from "./http/database-gate.js";
import { demoRoutes } from "./http/demo-routes.js";
import { embedRoutes, watchPageTags } from "./http/embed-routes.js";
import { BODY_LIMIT, errorShapeOptions, registerErrorHandlers } from "./http/errors.js";
import { mediaFeatureRoutes } from "./http/media-feature-routes.js";
import { registerMetrics } from "./http/metrics-routes.js";
import { registerOpenApi } from "./http/openapi.js";
import { pageSecurityPolicy, registerSecurityHeaders } from "./http/security-headers.js";
import { type DatabaseState, systemRoutes } from "./http/system-routes.js";
import { fastifyTrustProxy } from "./http/trust-proxy.js";
import { buildValidator } from "./http/validation.js";
import { videoRoutes } from "./http/video-routes.js";
import { webhookRoutes } from "./http/webhook-routes.js";
import { storedCaptions, subtitleRenditions } from "./media/caption-service.js";
import { storedChapters, writeChaptersVtt } from "./media/chapters.js";
import { DownloadService } from "./media/downloads.js";
import { mediaRoutes } from "./media/media-routes.js";
import { ImageService } from "./media/thumbnails.js";
import { uploadRoutes } from "./uploads/upload-routes.js";
import { createUploadBackend } from "./uploads/upload-store.js";
import type { WebhookRepository } from "./webhooks/webhook-repository.js";

export interface AppDeps {
  config: Config;
  /** Pino logger; Fastify's own logger is disabled when absent. */
  logger?: Logger;
  /** Object storage; `createStorage(config)` when absent. */
  storage?: Storage;
  /** The catalog; the upload and video routes are registered only when it is given (with `auth`). */
  catalog?: Catalog;
  /** Accounts and access (`createAuthService`); required with `catalog`. */
  auth?: AuthService;
  /** The bus, checked by `/readyz`; its consumers and the outbox relay are started by the runtime. */
  bus?: Bus;
  /** The outbox, for the queue-lag gauges of `/metrics`. */
  outbox?: OutboxRepository;
  /** The tus upload locker shared by every instance (PostgreSQL); in-process when absent. */
  uploadLocker?: Locker;
  /** Prometheus metrics served at `/metrics`; a fresh registry when absent. */
  metrics?: Metrics;
  /** Webhook endpoints and deliveries: `/api/webhooks` is registered (with the catalog) when given. */
  webhooks?: WebhookRepository;
  /** The supervised embedded database's state: API requests get 503 at once while it restarts. */
  databaseState?: DatabaseState;
}

/** Builds the Reelkit HTTP app with every route registered and no port bound. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config, logger } = deps;
  const storage = deps.storage ?? (await createStorage(config));
  const metrics = deps.metrics ?? createMetrics({ process: "reelkit-server" });
  // The pino instance narrows Fastify's logger type; routes only need the base logger API.
  const app = Fastify({
    loggerInstance: logger,
    logController: new AccessLog(),
    bodyLimit: BODY_LIMIT,
    // X-Forwarded-For/-Host/-Proto count only from the proxies REELKIT_TRUST_PROXY names.
    trustProxy: fastifyTrustProxy(config.trustProxy),
    ...errorShapeOptions,
    schemaController: { compilersFactory: { buildValidator } },
  }) as unknown as FastifyInstance;

  registerErrorHandlers(app);
  // Security headers on every reply (nosniff, HSTS over https, referrer policy, the API's strict
  // CSP); the demo's pages get their own policy from the demo routes.
  registerSecurityHeaders(app);
  // @fastify/cors answers every OPTIONS request in its onRequest hook, tus uploads included
  // (preflights must allow everything the kit sends; the upload routes add the tus discovery
  // headers), and puts the CORS headers on every reply, hijacked tus replies included.
  await app.register(cors, {
    origin: config.corsOrigins.includes("*") ? true : config.corsOrigins,
    methods: [...CORS_METHODS],
    allowedHeaders: [...CORS_ALLOWED_HEADERS],
    exposedHeaders: [...CORS_EXPOSED_HEADERS],
    maxAge: 86_400,
    // An OPTIONS without Access-Control-Request-Method is tus discovery, not a bad preflight.
    strictPreflight: false,
  });

  if (deps.databaseState) registerDatabaseGate(app, deps.databaseState);

  await registerOpenApi(app);
  registerMetrics(app, metrics, config.metricsToken);
  await app.register(systemRoutes, {
    storage,
    database: deps.catalog,
    bus: deps.bus,
    databaseState: deps.databaseState,
  });
  const catalogForMedia = deps.catalog;
  // One image maker (and so one bound on its ffmpeg processes) for the media route and the posters.
  const images = new ImageService({ storage, ffmpeg: () => resolveBinaries(config).ffmpeg });
  await app.register(mediaRoutes, {
    storage,
    images: catalogForMedia
      ? {
          service: images,
          video: (id) => catalogForMedia.queries.get(id),
        }
      : undefined,
    access:
      deps.auth && catalogForMedia
        ? {
            signer: deps.auth.mediaSigner,
            video: (id) => catalogForMedia.queries.mediaStateOf(id),
            // Test doubles of the catalog may come without its change stream: then nothing is held.
            ...(catalogForMedia.changes && {
              onChange: (listener: (videoId: string | null) => void) =>
                catalogForMedia.changes.subscribe((change) => listener(change?.id ?? null)),
            }),
            subtitles: async (id) => {
              const video = await catalogForMedia.queries.get(id);
              return video ? subtitleRenditions(storedCaptions(video)) : [];
            },
            chaptersVtt: async (id) => {
              const video = await catalogForMedia.queries.get(id);
              const chapters = video ? storedChapters(video) : [];
              return video && chapters.length > 0 ? writeChaptersVtt(chapters, video.duration ?? 0) : null;
            },
          }
        : undefined,
  });
  if (deps.auth) {
    await app.register(authRoutes, { auth: deps.auth });
    await app.register(adminRoutes, { auth: deps.auth });
  }
  if (deps.catalog) {
    const catalog = deps.catalog;
    const auth = deps.auth;
    if (!auth) throw new Error("buildApp: the catalog routes need `auth`");
    // One tus store for both: deleting a video mid-upload aborts its upload.
    const backend = await createUploadBackend({ config, storage });
    await app.register(uploadRoutes, {
      config,
      storage,
      catalog: catalog.uploads,
      auth,
      logger,
      locker: deps.uploadLocker,
      metrics,
      backend,
    });
    await app.register(videoRoutes, { config, storage, catalog, auth, uploads: backend, posters: images });
    await app.register(mediaFeatureRoutes, {
      config,
      storage,
      catalog,
      auth,
      downloads: new DownloadService({ storage, ffmpeg: () => resolveBinaries(config).ffmpeg }),
    });
    await app.register(embedRoutes, { config, catalog, auth });
    await app.register(apiKeyRoutes, { config, auth, apiKeys: auth.apiKeys });
    if (deps.webhooks) await app.register(webhookRoutes, { config, auth, webhooks: deps.webhooks });

    await app.register(channelRoutes, { config, storage, auth });
    if (deps.outbox) {
      const outbox = deps.outbox;
      registerGauge(metrics, {
        name: "reelkit_queue_lag_seconds",
        help: "Age of the oldest video event not yet published to the bus",
        read: async () => (await outbox.lag()).oldestSeconds,
      });
      registerGauge(metrics, {
        name: "reelkit_queue_pending",
        help: "Video events not yet published to the bus",
        read: async () => (await outbox.lag()).pending,
      });
    }
  }

  if (config.demoDir) {
    await app.register(demoRoutes, {
      root: config.demoDir,
      contentSecurityPolicy: pageSecurityPolicy(config),
      watchPageTags: deps.catalog ? watchPageTags({ config, catalog: deps.catalog }) : undefined,
    });
  }
  return app;
}
