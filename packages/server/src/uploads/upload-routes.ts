import { randomUUID } from "node:crypto";
import rateLimit from "@fastify/rate-limit";
import type { Config, Logger, Metrics, Storage } from "@reelkit/core";
import { UPLOADS_PATH, VIDEO_ID_HEADER } from "@reelkit/sdk/contract";
import { EVENTS, type Locker, Server as TusServer } from "@tus/server";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { AuthService } from "../auth/auth-service.js";
import { actingUserId, type Principal } from "../auth/principal.js";
import type { UploadCreator } from "../catalog/catalog-service.js";
import { errorBody, errors } from "../http/errors.js";
import {
  type CompletionCatalog,
  failExpiredUploads,
  finishInterruptedUploads,
  linkUploadToSource,
} from "./upload-completion.js";
import { createUploadBackend } from "./upload-store.js";
import { sendWebResponse, toWebRequest } from "./web-request.js";

/** What the upload flow needs from the catalog (CatalogService satisfies it). */
export interface UploadCatalog extends CompletionCatalog {
  /** The client terminated the upload (tus DELETE): its video goes too. */
  cancelUpload(videoId: string): Promise<unknown>;
  createForUpload(input: {
    videoId: string;
    uploadId: string;
    title: string;
    description: string;
    filename: string | null;
    ownerId: string | null;
    uploadTokenId: string | null;
  }): Promise<unknown>;
  /** Who created the upload (null: no such upload). */
  uploadCreator(uploadId: string): Promise<UploadCreator | null>;
  /** Unfinished uploads of one owner. */
  countUploading(ownerId: string): Promise<number>;
}

export interface UploadRoutesOptions {
  config: Pick<
    Config,
    "maxUploadSize" | "uploadExpirySeconds" | "corsOrigins" | "storage" | "maxUnfinishedUploads" | "uploadRateLimit"
  >;
  storage: Storage;
  catalog: UploadCatalog;
  auth: Pick<AuthService, "require" | "principal">;
  logger?: Logger;
  /** Serialises requests to one upload; in-process when absent (one server instance). */
  locker?: Locker;
  metrics?: Metrics;
}

// Set by the Fastify route on creation requests so tus names the upload after the new video
// and records who created it; a client can never send these (every x-reelkit-internal-* is dropped).
const INTERNAL_PREFIX = "x-reelkit-internal-";
const ID_HEADER = `${INTERNAL_PREFIX}video-id`;
const OWNER_HEADER = `${INTERNAL_PREFIX}owner`;
const TOKEN_HEADER = `${INTERNAL_PREFIX}upload-token`;

/** Whether `p` may resume, inspect or cancel an upload created by `creator`: only its creator can. */
function isCreator(p: Principal, creator: UploadCreator): boolean {
  if (creator.uploadTokenId) return p.kind === "upload-token" && p.tokenId === creator.uploadTokenId;
  return p.kind === "user" && creator.ownerId !== null && p.userId === creator.ownerId;
}
// Uploads expire after `uploadExpirySeconds`, and a finished upload whose finish hook failed
// (database down) is retried by the same sweep: every 5 minutes at most keeps both delays short.
const MAX_SWEEP_INTERVAL_MS = 300_000;
// A complete upload younger than this may still be inside its own finish hook: the sweep leaves it.
const MAX_FINISH_GRACE_MS = 60_000;

function titleFrom(metadata: Record<string, string | null> | undefined): {
  title: string;
  description: string;
  filename: string | null;
} {
  // Upload-Metadata is base64 of anything; PostgreSQL text cannot hold NUL, so drop it.
  const text = (v: string | null | undefined) => (v ?? "").replaceAll("\u0000", "");
  const filename = text(metadata?.filename).trim() || null;
  const fromName = filename ? filename.replace(/\.[^.]+$/, "") : "";
  const title = (text(metadata?.title).trim() || fromName || "Untitled").slice(0, 200);
  return { title, description: text(metadata?.description).slice(0, 5000), filename };
}

/** tus 1.0 at `/api/uploads`: creation, creation-with-upload, termination, expiration. */
export async function uploadRoutes(app: FastifyInstance, opts: UploadRoutesOptions): Promise<void> {
  const { config, storage, catalog } = opts;
  const backend = createUploadBackend({ config, storage });
  const { datastore } = backend;
  // Every id tus hands to a hook was issued by `namingFunction`, so it maps back to a video.
  const videoIdOf = (tusId: string) => backend.videoId(tusId) ?? tusId;
  const anyOrigin = config.corsOrigins.includes("*");
  const tus = new TusServer({
    path: UPLOADS_PATH,
    datastore,
    locker: opts.locker,
    maxSize: config.maxUploadSize,
    relativeLocation: true,
    respectForwardedHeaders: true,
    allowedOrigins: anyOrigin ? undefined : config.corsOrigins,
    exposedHeaders: [VIDEO_ID_HEADER],
    namingFunction: (req) => backend.tusId(req.headers.get(ID_HEADER) ?? randomUUID()),
    // URLs name the video id; the store may key the upload differently (S3: `uploads/<id>`).
    generateUrl: (_req, { path, id }) => `${path}/${videoIdOf(id)}`,
    getFileIdFromRequest: (_req, lastPath) =>
      lastPath && /^[A-Za-z0-9_-]+$/.test(lastPath) ? backend.tusId(lastPath) : undefined,
    onUploadCreate: async (req, upload) => {
      const videoId = videoIdOf(upload.id);
      await catalog.createForUpload({
        videoId,
        uploadId: videoId,
        ...titleFrom(upload.metadata),
        ownerId: req.headers.get(OWNER_HEADER),
        uploadTokenId: req.headers.get(TOKEN_HEADER),
      });
      opts.metrics?.uploads.inc({ event: "created" });
      return {};
    },
    onUploadFinish: async (_req, upload) => {
      // tus re-reads the upload after this hook, so the file must stay until the response is
      // written: link it to its source key now (no copy on one filesystem), remove it after.
      // A crash between the link and finishUpload is repaired by the start-up sweep below.
      const videoId = videoIdOf(upload.id);
      const sourceKey = await linkUploadToSource(storage, videoId, videoId);
      await catalog.finishUpload(videoId, { sourceKey, sourceSize: upload.size ?? upload.offset });
      opts.metrics?.uploads.inc({ event: "finished" });
      return {};
    },
    onResponseError: (_req, err) => {
      if ("status_code" in err && err.status_code === 413) {
        return {
          status_code: 413,
          body: JSON.stringify(
            errorBody(
              "UPLOAD_TOO_LARGE",
              `Upload exceeds the maximum size of ${config.maxUploadSize} bytes (REELKIT_MAX_UPLOAD_SIZE)`,
            ),
          ),
        };
      }
      return undefined;
    },
  });

  tus.on(EVENTS.POST_TERMINATE, (_req, _res, id) => {
    const videoId = videoIdOf(id);
    opts.metrics?.uploads.inc({ event: "terminated" });
    catalog
      .cancelUpload(videoId)
      .catch((err) =>
        opts.logger?.warn({ err, uploadId: videoId }, "could not remove the video of a cancelled upload"),
      );
  });

  tus.on(EVENTS.POST_FINISH, (_req, _res, upload) => {
    const videoId = videoIdOf(upload.id);
    backend
      .removeFinished(videoId)
      .catch((err) => opts.logger?.warn({ err, uploadId: videoId }, "upload cleanup failed"));
  });

  // tus reads the raw request body itself; Fastify must leave the stream untouched.
  app.addContentTypeParser("application/offset+octet-stream", (_req, _payload, done) => done(null));

  /** Creation needs a user or an upload token, within the caller's cap of unfinished uploads. */
  const authorizeCreation = async (request: FastifyRequest): Promise<Principal> => {
    const p = await opts.auth.require(request);
    const owner = actingUserId(p);
    if ((await catalog.countUploading(owner)) >= config.maxUnfinishedUploads) {
      throw errors.uploadLimitReached(config.maxUnfinishedUploads);
    }
    return p;
  };

  /** Every other tus request names one upload; only whoever created it may touch it. */
  const authorizeExisting = async (request: FastifyRequest): Promise<void> => {
    const p = await opts.auth.require(request);
    const id = decodeURIComponent((request.params as { "*"?: string })["*"] ?? "");
    const creator = id ? await catalog.uploadCreator(id) : null;
    if (!creator) throw errors.uploadNotFound();
    if (!isCreator(p, creator)) throw errors.forbidden("Only whoever created this upload can use it");
  };

  const handle = async (request: FastifyRequest, reply: FastifyReply) => {
    let principal: Principal | null = null;
    if (request.method === "POST") principal = await authorizeCreation(request);
    else if (request.method !== "OPTIONS") await authorizeExisting(request);
    reply.hijack();
    const raw = request.raw;
    // A client must never choose the id or the owner: drop any copy of the internal headers it sent.
    const headers = new Headers();
    for (let i = 0; i + 1 < raw.rawHeaders.length; i += 2) {
      const name = raw.rawHeaders[i] as string;
      if (!name.toLowerCase().startsWith(INTERNAL_PREFIX)) headers.append(name, raw.rawHeaders[i + 1] as string);
    }
    if (principal) {
      const videoId = randomUUID();
      headers.set(ID_HEADER, videoId);
      headers.set(OWNER_HEADER, actingUserId(principal));
      if (principal.kind === "upload-token") headers.set(TOKEN_HEADER, principal.tokenId);
      reply.raw.setHeader(VIDEO_ID_HEADER, videoId);
    }
    await sendWebResponse(reply.raw, await tus.handleWeb(toWebRequest(raw, headers)));
  };
  // Creating uploads is rate-limited per caller (their user, else their address).
  await app.register(rateLimit, { global: false });
  const creationLimit = {
    rateLimit: {
      max: config.uploadRateLimit.max,
      timeWindow: config.uploadRateLimit.windowSeconds * 1000,
      hook: "preHandler" as const,
      keyGenerator: async (request: FastifyRequest) => {
        const p = await opts.auth.principal(request);
        return p ? `user:${actingUserId(p)}` : `ip:${request.ip}`;
      },
      errorResponseBuilder: (_req: FastifyRequest, ctx: { after: string; ttl: number }) =>
        errors.rateLimited(Math.max(1, Math.ceil(ctx.ttl / 1000))),
    },
  };
  const methods = ["GET", "HEAD", "PATCH", "DELETE", "OPTIONS"] as const;
  // tus is its own protocol (headers, not JSON bodies): the OpenAPI document names it in its
  // description instead of listing these routes.
  const schema = { hide: true };
  app.route({ method: "POST", url: UPLOADS_PATH, schema, config: creationLimit, handler: handle });
  app.route({ method: [...methods], url: UPLOADS_PATH, schema, handler: handle });
  app.route({ method: ["POST", ...methods], url: `${UPLOADS_PATH}/*`, schema, handler: handle });

  // Before the port opens: finish uploads whose last byte landed just before a crash.
  app.addHook("onReady", async () => {
    await finishInterruptedUploads({ uploads: backend.uploads, storage, catalog, logger: opts.logger }).catch((err) =>
      opts.logger?.error({ err }, "interrupted upload sweep failed"),
    );
  });

  const sweep = () => {
    tus
      .cleanUpExpiredUploads()
      .then((n) => {
        if (n > 0) opts.logger?.info({ removed: n }, "removed expired uploads");
        const createdBefore = new Date(Date.now() - config.uploadExpirySeconds * 1000);
        return failExpiredUploads({ uploads: backend.uploads, storage, catalog, createdBefore, logger: opts.logger });
      })
      .then(() => {
        const grace = Math.min(MAX_FINISH_GRACE_MS, config.uploadExpirySeconds * 1000);
        const settledBefore = new Date(Date.now() - grace);
        return finishInterruptedUploads({
          uploads: backend.uploads,
          storage,
          catalog,
          settledBefore,
          logger: opts.logger,
        });
      })
      .catch((err) => opts.logger?.warn({ err }, "expired upload sweep failed"));
  };
  const timer = setInterval(sweep, Math.min(config.uploadExpirySeconds * 1000, MAX_SWEEP_INTERVAL_MS));
  timer.unref();
  app.addHook("onClose", async () => clearInterval(timer));
}
