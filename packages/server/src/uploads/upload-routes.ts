import { randomUUID } from "node:crypto";
import rateLimit from "@fastify/rate-limit";
import { type Config, keys, type Logger, type Metrics, type Storage } from "@reelkit/core";
import { UPLOADS_PATH, VIDEO_ID_HEADER } from "@reelkit/sdk/contract";
import { EVENTS, type Locker, Server as TusServer } from "@tus/server";
import { ERRORS, TUS_RESUMABLE } from "@tus/utils";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { AuthService } from "../auth/auth-service.js";
import { actingUserId, type Principal } from "../auth/principal.js";
import type { UploadCreator } from "../catalog/upload-lifecycle.js";
import { ApiError, errorBody, errors } from "../http/errors.js";
import {
  type CompletionCatalog,
  failExpiredUploads,
  finishInterruptedUploads,
  isNotFoundError,
  linkUploadToSource,
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
  }): Promise<unknown>;
  /** Who created the upload (null: no such upload). */
  uploadCreator(uploadId: string): Promise<UploadCreator | null>;
  /** Unfinished uploads of one owner. */
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

// Set by the Fastify route on creation requests so tus names the upload after the new video
// and records who created it; a client can never send these (every x-reelkit-internal-* is dropped).
const INTERNAL_PREFIX = "x-reelkit-internal-";
const ID_HEADER = `${INTERNAL_PREFIX}video-id`;
const OWNER_HEADER = `${INTERNAL_PREFIX}owner`;
const TOKEN_HEADER = `${INTERNAL_PREFIX}upload-token`;
const TITLE_HEADER = `${INTERNAL_PREFIX}title`;
// The upload a HEAD, PATCH or DELETE acts on, as authorized: tus reads it from here, never from the URL.
const UPLOAD_ID_HEADER = `${INTERNAL_PREFIX}upload-id`;

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

/** tus's own errors, mapped into the catalogue (tus answers them as text/plain otherwise). */
function fromTusError(err: unknown, maxUploadSize: number): ApiError | null {
  switch (err) {
    case ERRORS.FILE_NOT_FOUND:
      return errors.uploadNotFound();
    case ERRORS.FILE_NO_LONGER_EXISTS:
      return errors.uploadGone();
    case ERRORS.INVALID_OFFSET:
      return errors.uploadOffsetMismatch();
    case ERRORS.ERR_MAX_SIZE_EXCEEDED:
      return errors.uploadTooLarge(maxUploadSize);
    case ERRORS.ERR_LOCK_TIMEOUT:
    case ERRORS.ABORTED:
      return errors.uploadLocked();
    case ERRORS.UNSUPPORTED_CONCATENATION_EXTENSION:
    case ERRORS.UNSUPPORTED_CREATION_DEFER_LENGTH_EXTENSION:
    case ERRORS.UNSUPPORTED_EXPIRATION_EXTENSION:
      return errors.notImplemented((err as { body: string }).body.trim());
  }
  // Told apart by the caller: past the declared length, or (length deferred) past the maximum.
  if (err === ERRORS.ERR_SIZE_EXCEEDED) return null;
  const status = (err as { status_code?: unknown } | null)?.status_code;
  const body = (err as { body?: unknown } | null)?.body;
  // The remaining tus errors are malformed requests (missing or invalid headers, metadata…).
  if (typeof status === "number" && status < 500 && typeof body === "string") {
    return new ApiError(status, "VALIDATION_FAILED", body.trim());
  }
  return null;
}

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
  // Every id tus hands to a hook was issued by `namingFunction`, so it maps back to a video.
  const videoIdOf = (tusId: string) => backend.videoId(tusId) ?? tusId;

  /** Removes the tus data of an upload (on disk or in S3) and whatever its video has in storage. */
  const removeUploadAndVideoFiles = async (videoId: string) => {
    const upload = keys.upload(videoId);
    await Promise.all([
      ...["", ".json", ".info", ".part"].map((ext) => storage.delete(`${upload}${ext}`)),
      storage.deletePrefix(keys.videoPrefix(videoId)),
    ]);
  };

  // Uploads whose finish hook succeeded during the current request: on S3 their tus data is
  // removed right after (POST_FINISH), which must not read as "deleted while uploading".
  const finishedNow = new Set<string>();

  const tus = new TusServer({
    path: UPLOADS_PATH,
    datastore,
    locker: opts.locker,
    maxSize: config.maxUploadSize,
    relativeLocation: true,
    // Locations are relative (generateUrl): the Host and X-Forwarded-* headers play no part.
    respectForwardedHeaders: false,
    namingFunction: (req) => backend.tusId(req.headers.get(ID_HEADER) ?? randomUUID()),
    // URLs name the video id; the store may key the upload differently (S3: `uploads/<id>`).
    generateUrl: (_req, { path, id }) => `${path}/${videoIdOf(id)}`,
    // Not from the URL: tus would take its last `/`-segment, query included.
    getFileIdFromRequest: (req) => {
      const id = req.headers.get(UPLOAD_ID_HEADER);
      return id ? backend.tusId(id) : undefined;
    },
    onUploadCreate: async (req, upload) => {
      const videoId = videoIdOf(upload.id);
      // An upload token's title replaces the one the browser sent.
      const tokenTitle = req.headers.get(TITLE_HEADER);
      const named = titleFrom(upload.metadata);
      await catalog.createForUpload({
        videoId,
        uploadId: videoId,
        ...named,
        title: tokenTitle ? decodeURIComponent(tokenTitle) : named.title,
        ownerId: req.headers.get(OWNER_HEADER),
        uploadTokenId: req.headers.get(TOKEN_HEADER),
      });
      opts.metrics?.uploads.inc({ event: "created" });
      return {};
    },
    onUploadFinish: async (_req, upload) => {
      // On disk the upload stays (until it expires) so that HEAD tells a client whose last
      // response was lost that it is complete; its source is a hard link to the same bytes.
      // A crash between the copy and finishUpload is repaired by the sweeps below.
      const videoId = videoIdOf(upload.id);
      opts.logger?.info({ videoId }, "upload finished");
      let sourceKey: string;
      try {
        sourceKey = await linkUploadToSource(storage, videoId, videoId);
      } catch (err) {
        if (!isNotFoundError(err)) throw err;
        // The video was deleted while this last PATCH was being written: its upload is gone.
        await removeUploadAndVideoFiles(videoId);
        throw errors.uploadGone();
      }
      const finished = await catalog.finishUpload(videoId, { sourceKey, sourceSize: upload.size ?? upload.offset });
      if (finished === null) {
        await removeUploadAndVideoFiles(videoId);
        throw errors.uploadGone();
      }
      opts.logger?.info({ videoId }, "video queued");
      opts.metrics?.uploads.inc({ event: "finished" });
      finishedNow.add(videoId);
      return {};
    },
    onResponseError: async (req, err) => {
      let mapped = err instanceof ApiError ? err : fromTusError(err, config.maxUploadSize);
      if (!mapped && err === ERRORS.ERR_SIZE_EXCEEDED) {
        // More bytes than the upload declared, or (length deferred) than the server accepts.
        const id = req.headers.get(UPLOAD_ID_HEADER);
        const upload = id ? await backend.uploads.getUpload(id).catch(() => null) : null;
        mapped =
          upload?.size === undefined ? errors.uploadTooLarge(config.maxUploadSize) : errors.uploadLengthExceeded();
      }
      if (!mapped && (err as NodeJS.ErrnoException).code === "ENOSPC") {
        opts.logger?.error({ err }, "no space left for an upload");
        mapped = errors.insufficientStorage();
      }
      if (!mapped) {
        opts.logger?.error({ err }, "upload request failed");
        mapped = errors.internal();
      }
      return { status_code: mapped.statusCode, body: JSON.stringify(errorBody(mapped.code, mapped.message)) };
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
    if (p.kind === "upload-token") {
      // The token's size cap needs the length up front (no deferred length).
      const length = Number(request.headers["upload-length"]);
      if (!Number.isSafeInteger(length) || length < 0) {
        throw errors.validation("An upload with an upload token declares its Upload-Length");
      }
      if (length > p.maxSize) throw errors.uploadTokenTooLarge(p.maxSize);
    }
    if ((await catalog.countUploading(owner)) >= config.maxUnfinishedUploads) {
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
    if (!isCreator(p, creator)) throw errors.forbidden("Only whoever created this upload can use it");
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

  const handle = async (request: FastifyRequest, reply: FastifyReply) => {
    const target = tusTarget(request.method, request.raw.url ?? "");
    let principal: Principal | null = null;
    if (request.method === "POST") principal = await authorizeCreation(request);
    else if (target.uploadId !== null && request.method !== "OPTIONS") {
      await authorizeExisting(request, target.uploadId);
    }
    reply.hijack();
    const raw = request.raw;
    // A client must never choose the id or the owner: drop any copy of the internal headers it sent.
    const headers = new Headers();
    for (let i = 0; i + 1 < raw.rawHeaders.length; i += 2) {
      const name = raw.rawHeaders[i] as string;
      if (!name.toLowerCase().startsWith(INTERNAL_PREFIX)) headers.append(name, raw.rawHeaders[i + 1] as string);
    }
    const id = request.method === "POST" ? randomUUID() : target.uploadId;
    let justFinished = false;
    if (request.method === "POST") headers.set(ID_HEADER, id as string);
    else if (id) headers.set(UPLOAD_ID_HEADER, id);
    if (principal) {
      headers.set(OWNER_HEADER, actingUserId(principal));
      if (principal.kind === "upload-token") {
        headers.set(TOKEN_HEADER, principal.tokenId);
        if (principal.title) headers.set(TITLE_HEADER, encodeURIComponent(principal.title));
      }
    }
    let response: Response;
    try {
      // tus sees the canonical URL of the upload it acts on, whatever the client sent.
      const url = id && request.method !== "POST" ? `${UPLOADS_PATH}/${id}` : UPLOADS_PATH;
      response = await toJsonError(await tus.handleWeb(toWebRequest(raw, headers, url)));
    } finally {
      if (id) justFinished = finishedNow.delete(id);
    }

    let abandoned = false;
    if (request.method === "POST" && id && response.status >= 400) {
      // A creation that failed (full disk, bad body…) leaves no video and no file; one whose
      // every byte is stored and only the catalog update failed is finished by the sweep.
      const upload = await backend.uploads.getUpload(id).catch(() => null);
      if (upload?.size === undefined || upload.offset !== upload.size) {
        abandoned = true;
        await catalog
          .cancelUpload(id)
          .catch((err) => opts.logger?.warn({ err, videoId: id }, "could not remove the video of a failed upload"));
        await removeUploadAndVideoFiles(id).catch(() => undefined);
        // The token was claimed for this upload, which does not exist: the site may try again.
        if (principal?.kind === "upload-token") {
          await opts.auth.apiKeys
            .releaseUploadToken(principal.tokenId)
            .catch((err) => opts.logger?.warn({ err, videoId: id }, "could not release an upload token"));
        }
      }
    }
    if (
      request.method === "PATCH" &&
      id &&
      !justFinished &&
      response.status === 204 &&
      !(await backend.uploads.getUpload(id).catch(() => null))
    ) {
      // The video was deleted while this PATCH was being written: tell the client to stop.
      const gone = errors.uploadGone();
      response = jsonResponse(gone.statusCode, errorBody(gone.code, gone.message), response.headers);
    }
    if (response.headers.has("upload-expires")) {
      // tus dates it from the activity before this request; the clock restarts with this one.
      response.headers.set("upload-expires", new Date(Date.now() + config.uploadExpirySeconds * 1000).toUTCString());
    }
    if (id && (response.status < 300 || (request.method === "POST" && !abandoned))) {
      reply.raw.setHeader(VIDEO_ID_HEADER, id);
    }
    // One CORS policy for every route: the headers @fastify/cors put on the reply, not tus's.
    for (const [name, value] of Object.entries(reply.getHeaders())) {
      if (value !== undefined) reply.raw.setHeader(name, value as string);
    }
    await sendWebResponse(reply.raw, response, { omit: (name) => name.startsWith("access-control-") });
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
