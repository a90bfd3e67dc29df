import { randomUUID } from "node:crypto";
import rateLimit from "@fastify/rate-limit";
import type { Config, Logger, Metrics, Storage } from "@reelkit/core";
import { UPLOADS_PATH, VIDEO_ID_HEADER } from "@reelkit/sdk/contract";
import { EVENTS, type Locker, Server as TusServer } from "@tus/server";
import { TUS_RESUMABLE } from "@tus/utils";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { AuthService } from "../auth/auth-service.js";
import { actingUserId, type Principal } from "../auth/principal.js";
import type { UploadCreator } from "../catalog/upload-lifecycle.js";
import { errorBody, errors } from "../http/errors.js";
import { copyReplyHeaders, toWebHeaders } from "../http/header-bridge.js";
import { bindUploadRequest, tusLifecycle, type UploadRequest } from "./tus-lifecycle.js";
import {
  type CompletionCatalog,
  failExpiredUploads,
  failTokenExpiredUploads,
  finishInterruptedUploads,
} from "./upload-completion.js";
import { createUploadBackend, type UploadBackend } from "./upload-store.js";
import { sendWebResponse, toWebRequest } from "./web-request.js";

/** What the upload flow needs from the catalog (UploadLifecycle satisfies it). */
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
    /** Set by an upload token; the catalog's defaults otherwise. */
    visibility?: "PUBLIC" | "UNLISTED" | "PRIVATE";
    tags?: string[];
    passthrough?: string | null;
  }): Promise<unknown>;
  /** Who created the upload (null: no such upload). */
  uploadCreator(uploadId: string): Promise<UploadCreator | null>;
  /** Unfinished uploads of one owner, not counting those created with upload tokens (those count per API key). */
  countUploading(ownerId: string): Promise<number>;
}

export interface UploadRoutesOptions {
  config: Pick<
    Config,
    "maxUploadSize" | "uploadExpirySeconds" | "storage" | "maxUnfinishedUploads" | "uploadRateLimit"
  >;
  storage: Storage;
  catalog: UploadCatalog;
  auth: Pick<AuthService, "require" | "principal" | "apiKeys">;
  logger?: Logger;
  /** Serialises requests to one upload; in-process when absent (one server instance). */
  locker?: Locker;
  metrics?: Metrics;
  /** The tus store; made from `config` and `storage` when absent. */
  backend?: UploadBackend;
}

/**
 * Whether `p` may resume, inspect or cancel an upload created by `creator`: only its creator can.
 * An upload token's upload is bound to that token; another token (a fresh one minted after a page
 * reload, say) gets its own code, so a client can tell it apart from "not yours".
 */
function checkCreator(p: Principal, creator: UploadCreator): void {
  if (creator.uploadTokenId) {
    if (p.kind === "upload-token" && p.tokenId === creator.uploadTokenId) return;
    if (p.kind === "upload-token") throw errors.uploadTokenMismatch();
  } else if (p.kind === "user" && creator.ownerId !== null && p.userId === creator.ownerId) {
    return;
  }
  throw errors.forbidden("Only whoever created this upload can use it");
}

/** Whether a declared content type is one of the allowed ones (`video/mp4`, or a family `video/*`). */
export function contentTypeAllowed(declared: string, allowed: string[]): boolean {
  const type = declared.split(";")[0]?.trim().toLowerCase() ?? "";
  const family = type.split("/")[0];
  return allowed.some((a) => a === type || (a.endsWith("/*") && a.slice(0, -2) === family && type.includes("/")));
}

/** The `filetype` value of a tus `Upload-Metadata` header (null when absent or undecodable). */
function declaredFiletype(header: string | string[] | undefined): string | null {
  const raw = Array.isArray(header) ? header.join(",") : header;
  for (const pair of (raw ?? "").split(",")) {
    const [key, value] = pair.trim().split(" ");
    if (key === "filetype" && value) {
      const text = Buffer.from(value, "base64").toString("utf8").trim();
      return text || null;
    }
  }
  return null;
}
// Uploads expire after `uploadExpirySeconds`, and a finished upload whose finish hook failed
// (database down) is retried by the same sweep: every 5 minutes at most keeps both delays short.
const MAX_SWEEP_INTERVAL_MS = 300_000;
// A complete upload younger than this may still be inside its own finish hook: the sweep leaves it.
const MAX_FINISH_GRACE_MS = 60_000;

/**
 * tus error responses as JSON: those of its error hook already carry the error shape (as
 * text/plain); a few are answered before that hook (412 without Tus-Resumable, invalid headers).
 */
async function toJsonError(response: Response): Promise<Response> {
  if (response.status < 400) return response;
  const text = (await response.text()).trim();
  try {
    const parsed = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
    if (typeof parsed.error?.code === "string" && typeof parsed.error.message === "string") {
      return jsonResponse(response.status, parsed, response.headers);
    }
  } catch {
    // plain text from tus
  }
  const code = response.status >= 500 ? "INTERNAL" : response.status === 404 ? "UPLOAD_NOT_FOUND" : "VALIDATION_FAILED";
  const message = response.status >= 500 ? "Internal server error" : text || `tus request failed (${response.status})`;
  return jsonResponse(response.status, errorBody(code, message), response.headers);
}

function jsonResponse(status: number, body: unknown, from?: Headers): Response {
  const headers = new Headers(from);
  headers.set("content-type", "application/json; charset=utf-8");
  headers.delete("content-length");
  return new Response(JSON.stringify(body), { status, headers });
}

/** An upload's URL, exactly: no query, no further segment, no encoded character. */
const UPLOAD_URL = new RegExp(`^${UPLOADS_PATH}/([A-Za-z0-9_-]{1,64})$`);

/**
 * The upload a tus request acts on, read once from the raw URL: `null` for the creation URL
 * itself, else the id in `/api/uploads/<id>` (the same as its video's id). Any other form —
 * a query string, a trailing or doubled slash, encoded characters, more segments — is refused
 * before anything is authorized: the id that is checked and the id tus acts on must be one value.
 */
export function tusTarget(method: string, rawUrl: string): { uploadId: string | null } {
  if (rawUrl === UPLOADS_PATH && (method === "POST" || method === "OPTIONS")) return { uploadId: null };
  const match = method === "POST" ? null : UPLOAD_URL.exec(rawUrl);
  if (!match) throw errors.invalidUploadUrl();
  return { uploadId: match[1] as string };
}

/** tus 1.0 at `/api/uploads`: creation, creation-with-upload, termination, expiration. */
export async function uploadRoutes(app: FastifyInstance, opts: UploadRoutesOptions): Promise<void> {
  const { config, storage, catalog } = opts;
  const backend = opts.backend ?? (await createUploadBackend({ config, storage }));
  const { datastore } = backend;
  const lifecycle = tusLifecycle({ config, storage, catalog, backend, logger: opts.logger, metrics: opts.metrics });
  const tus = new TusServer({
    path: UPLOADS_PATH,
    datastore,
    locker: opts.locker,
    maxSize: config.maxUploadSize,
    relativeLocation: true,
    // Locations are relative (generateUrl): the Host and X-Forwarded-* headers play no part.
    respectForwardedHeaders: false,
    ...lifecycle.hooks,
  });
  tus.on(EVENTS.POST_TERMINATE, (_req, _res, id) => lifecycle.cancelVideo(lifecycle.videoIdOf(id)));
  tus.on(EVENTS.POST_FINISH, (_req, _res, upload) => lifecycle.cleanUpFinished(lifecycle.videoIdOf(upload.id)));

  // tus reads the raw request body itself; Fastify must leave the stream untouched.
  app.addContentTypeParser("application/offset+octet-stream", (_req, _payload, done) => done(null));

  /**
   * Creation needs a user or an upload token, within the cap of unfinished uploads: a user's own,
   * or (for an upload token) its API key's, so a site's visitors never use up its owner's.
   */
  const authorizeCreation = async (request: FastifyRequest): Promise<Principal> => {
    const p = await opts.auth.require(request);
    if (p.kind === "upload-token") {
      // The token's size cap needs the length up front (no deferred length).
      const length = Number(request.headers["upload-length"]);
      if (!Number.isSafeInteger(length) || length < 0) {
        throw errors.validation("An upload with an upload token declares its Upload-Length");
      }
      if (length > p.maxSize) throw errors.uploadTokenTooLarge(p.maxSize);
      const allowed = p.video.contentTypes;
      if (allowed.length > 0) {
        const declared = declaredFiletype(request.headers["upload-metadata"]);
        if (!declared || !contentTypeAllowed(declared, allowed)) throw errors.uploadTypeNotAllowed(declared, allowed);
      }
      const max = p.limits.maxUnfinishedUploads ?? config.maxUnfinishedUploads;
      if ((await opts.auth.apiKeys.countUploadingOfKey(p.apiKeyId)) >= max) throw errors.uploadLimitReached(max);
    } else if ((await catalog.countUploading(actingUserId(p))) >= config.maxUnfinishedUploads) {
      throw errors.uploadLimitReached(config.maxUnfinishedUploads);
    }
    // One upload per token: claimed before tus creates it.
    if (p.kind === "upload-token" && !(await opts.auth.apiKeys.claimUploadToken(p.tokenId))) {
      throw errors.uploadTokenUsed();
    }
    return p;
  };

  /** Every other tus request names one upload; only whoever created it may touch it. */
  const authorizeExisting = async (request: FastifyRequest, uploadId: string): Promise<void> => {
    const p = await opts.auth.require(request);
    const creator = await catalog.uploadCreator(uploadId);
    if (!creator) throw errors.uploadNotFound();
    checkCreator(p, creator);
  };

  // @fastify/cors answers OPTIONS (preflight or not) before the handler; add tus discovery.
  const extensions = datastore.extensions.join(",");
  app.addHook("onSend", async (request, reply) => {
    if (request.method !== "OPTIONS") return;
    reply.header("tus-resumable", TUS_RESUMABLE);
    reply.header("tus-version", TUS_RESUMABLE);
    reply.header("tus-extension", extensions);
    reply.header("tus-max-size", String(config.maxUploadSize));
  });

  /** Step 1: the one id a request acts on, authorized once (a new one for a creation). */
  const authorize = async (request: FastifyRequest): Promise<UploadRequest> => {
    const target = tusTarget(request.method, request.raw.url ?? "");
    if (request.method === "POST") {
      return { videoId: randomUUID(), creator: await authorizeCreation(request), finished: false };
    }
    if (target.uploadId !== null && request.method !== "OPTIONS") await authorizeExisting(request, target.uploadId);
    return { videoId: target.uploadId ?? "", creator: null, finished: false };
  };

  /** Step 2: tus handles the request at the canonical URL of that upload, whatever the client sent. */
  const runTus = async (request: FastifyRequest, upload: UploadRequest): Promise<Response> => {
    const url = request.method === "POST" || !upload.videoId ? UPLOADS_PATH : `${UPLOADS_PATH}/${upload.videoId}`;
    const web = toWebRequest(request.raw, toWebHeaders(request.headers), url);
    return toJsonError(await tus.handleWeb(bindUploadRequest(web, upload)));
  };

  /**
   * Step 3, after a failed creation: it leaves no video and no file (full disk, bad body…) and
   * gives its upload token back; one whose every byte is stored and only the catalog update
   * failed is finished by the sweep. Returns whether the upload was abandoned.
   */
  const abandonFailedCreation = async (upload: UploadRequest): Promise<boolean> => {
    const { videoId, creator } = upload;
    const stored = await backend.uploads.getUpload(videoId).catch(() => null);
    if (stored?.size !== undefined && stored.offset === stored.size) return false;
    await catalog
      .cancelUpload(videoId)
      .catch((err) => opts.logger?.warn({ err, videoId }, "could not remove the video of a failed upload"));
    await lifecycle.removeUploadAndVideo(videoId).catch(() => undefined);
    // The token was claimed for this upload, which does not exist: the site may try again.
    if (creator?.kind === "upload-token") {
      await opts.auth.apiKeys
        .releaseUploadToken(creator.tokenId)
        .catch((err) => opts.logger?.warn({ err, videoId }, "could not release an upload token"));
    }
    return true;
  };

  /** Step 3, after a PATCH: was the video deleted while its bytes were being written? */
  const deletedMeanwhile = async (upload: UploadRequest): Promise<boolean> =>
    !upload.finished && !(await backend.uploads.getUpload(upload.videoId).catch(() => null));

  const handle = async (request: FastifyRequest, reply: FastifyReply) => {
    const upload = await authorize(request);
    reply.hijack();
    let response = await runTus(request, upload);
    const { method } = request;
    const abandoned = method === "POST" && response.status >= 400 && (await abandonFailedCreation(upload));
    if (method === "PATCH" && response.status === 204 && (await deletedMeanwhile(upload))) {
      // Tell the client to stop.
      const gone = errors.uploadGone();
      response = jsonResponse(gone.statusCode, errorBody(gone.code, gone.message), response.headers);
    }
    const unavailable = errors.databaseUnavailable();
    if (response.status === unavailable.statusCode) {
      response.headers.set("retry-after", String(unavailable.retryAfterSeconds));
    }
    if (response.headers.has("upload-expires")) {
      // tus dates it from the activity before this request; the clock restarts with this one.
      response.headers.set("upload-expires", new Date(Date.now() + config.uploadExpirySeconds * 1000).toUTCString());
    }
    if (upload.videoId && (response.status < 300 || (method === "POST" && !abandoned))) {
      reply.raw.setHeader(VIDEO_ID_HEADER, upload.videoId);
    }
    // One CORS policy for every route: the headers @fastify/cors put on the reply, not tus's.
    copyReplyHeaders(reply);
    await sendWebResponse(reply.raw, response, { omit: (name) => name.startsWith("access-control-") });
  };
  // Creating uploads is rate-limited per caller: an upload token's API key (its own limit, or the
  // server's scaled to the window), else the user, else the address.
  await app.register(rateLimit, { global: false });
  const windowMs = config.uploadRateLimit.windowSeconds * 1000;
  const creationLimit = {
    rateLimit: {
      max: async (request: FastifyRequest) => {
        const p = await opts.auth.principal(request).catch(() => null);
        const perMinute = p?.kind === "upload-token" ? p.limits.uploadsPerMinute : null;
        return perMinute === null || perMinute === undefined
          ? config.uploadRateLimit.max
          : Math.max(1, Math.round((perMinute * windowMs) / 60_000));
      },
      timeWindow: windowMs,
      hook: "preHandler" as const,
      keyGenerator: async (request: FastifyRequest) => {
        const p = await opts.auth.principal(request);
        if (p?.kind === "upload-token") return `api-key:${p.apiKeyId}`;
        return p ? `user:${actingUserId(p)}` : `ip:${request.ip}`;
      },
      errorResponseBuilder: (_req: FastifyRequest, ctx: { after: string; ttl: number }) =>
        errors.rateLimited(Math.max(1, Math.ceil(ctx.ttl / 1000))),
    },
  };
  // GET is no part of tus; PUT or GET on an upload is a 405. POST (creation) is rate-limited.
  const methods = ["HEAD", "PATCH", "DELETE", "OPTIONS"] as const;
  // tus is its own protocol (headers, not JSON bodies): the OpenAPI document names it in its
  // description instead of listing these routes.
  const schema = { hide: true };
  app.route({ method: "POST", url: UPLOADS_PATH, schema, config: creationLimit, handler: handle });
  app.route({ method: [...methods], url: UPLOADS_PATH, schema, handler: handle });
  app.route({ method: "POST", url: `${UPLOADS_PATH}/*`, schema, config: creationLimit, handler: handle });
  app.route({ method: [...methods], url: `${UPLOADS_PATH}/*`, schema, handler: handle });

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
        return failTokenExpiredUploads({
          uploads: backend.uploads,
          storage,
          catalog,
          discard: (uploadId) => backend.discard(uploadId),
          settledBefore,
          logger: opts.logger,
        }).then(() => settledBefore);
      })
      .then((settledBefore) => {
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
