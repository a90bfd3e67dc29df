import { type Config, keys, type Logger, type Metrics, type Storage } from "@reelkit/core";
import type { ServerOptions, Upload } from "@tus/server";
import { ERRORS } from "@tus/utils";
import { actingUserId, type Principal } from "../auth/principal.js";
import { isDatabaseUnreachable } from "../db/database-errors.js";
import { ApiError, errorBody, errors } from "../http/errors.js";
import { isNotFoundError, linkUploadToSource } from "./upload-completion.js";
import type { UploadCatalog } from "./upload-routes.js";
import type { UploadBackend } from "./upload-store.js";

/**
 * One tus request as the upload routes authorized it. The routes bind it to the web `Request`
 * they hand to tus, and tus's hooks read it from there: what was authorized is what they act on,
 * and nothing a client sends (a header, a URL segment) can stand in for it.
 */
export interface UploadRequest {
  /** The video this request acts on (also the upload's URL id); a new one for a creation. */
  readonly videoId: string;
  /** Who creates the upload: set on creations only. */
  readonly creator: Principal | null;
  /** Set by the finish hook when this request stored the upload's last byte and queued its video. */
  finished: boolean;
}

const requests = new WeakMap<Request, UploadRequest>();

/** Binds an authorized upload request to the web request tus will handle. */
export function bindUploadRequest(req: Request, upload: UploadRequest): Request {
  requests.set(req, upload);
  return req;
}

/** The authorized upload request behind a web request the routes made. */
export function uploadRequestOf(req: Request): UploadRequest {
  const upload = requests.get(req);
  if (!upload) throw new Error("a tus request that the upload routes did not authorize");
  return upload;
}

export interface TusLifecycleOptions {
  config: Pick<Config, "maxUploadSize">;
  storage: Storage;
  catalog: UploadCatalog;
  backend: UploadBackend;
  logger?: Logger;
  metrics?: Metrics;
}

/** Title, description and file name from tus `Upload-Metadata`. */
export function titleFrom(metadata: Record<string, string | null> | undefined): {
  title: string;
  description: string;
  filename: string | null;
  visibility?: "PUBLIC" | "UNLISTED" | "PRIVATE";
  tags?: string[];
} {
  // Upload-Metadata is base64 of anything; PostgreSQL text cannot hold NUL, so drop it.
  const text = (v: string | null | undefined) => (v ?? "").replaceAll("\u0000", "");
  const filename = text(metadata?.filename).trim() || null;
  const fromName = filename ? filename.replace(/\.[^.]+$/, "") : "";
  const title = (text(metadata?.title).trim() || fromName || "Untitled").slice(0, 200);
  const visibility = text(metadata?.visibility).trim().toUpperCase();
  // Tags as the catalog keeps them: trimmed, lower-case, no duplicates, at most 20 of 40 characters.
  const tags = [
    ...new Set(
      text(metadata?.tags)
        .split(",")
        .map((t) => t.trim().toLowerCase())
        .filter((t) => t.length > 0 && t.length <= 40),
    ),
  ].slice(0, 20);
  return {
    title,
    description: text(metadata?.description).slice(0, 5000),
    filename,
    ...((visibility === "PUBLIC" || visibility === "UNLISTED" || visibility === "PRIVATE") && { visibility }),
    ...(tags.length > 0 && { tags }),
  };
}

/** tus's own errors, mapped into the catalogue (tus answers them as text/plain otherwise). */
export function fromTusError(err: unknown, maxUploadSize: number): ApiError | null {
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
 * The steps of an upload's life inside tus, each named: which store id a request acts on, the
 * video created with the upload, the video queued when its last byte is stored, the error
 * answered for a failure, and what follows a termination or a finished upload.
 */
export function tusLifecycle(opts: TusLifecycleOptions) {
  const { config, storage, catalog, backend } = opts;
  // Every id tus hands to a hook was issued by `namingFunction`, so it maps back to a video.
  const videoIdOf = (tusId: string) => backend.videoId(tusId) ?? tusId;

  /** Removes the tus data of an upload (on disk or in S3) and whatever its video has in storage. */
  const removeUploadAndVideo = (videoId: string) =>
    Promise.all([backend.discard(videoId), storage.deletePrefix(keys.videoPrefix(videoId))]);

  /** A creation's new upload is named after its video. */
  const namingFunction = (req: Request) => backend.tusId(uploadRequestOf(req).videoId);

  /** Not from the URL: tus would take its last `/`-segment, query included. */
  const getFileIdFromRequest = (req: Request) => backend.tusId(uploadRequestOf(req).videoId);

  /** URLs name the video id; the store may key the upload differently (S3: `uploads/<id>`). */
  const generateUrl = (_req: Request, { path, id }: { path: string; id: string }) => `${path}/${videoIdOf(id)}`;

  /** Creation: the video's row (UPLOADING), owned by the creator, set up by its upload token if it has one. */
  const createVideo = async (req: Request, upload: Upload) => {
    const { videoId, creator } = uploadRequestOf(req);
    if (!creator) throw new Error("an upload created without a creator");
    const named = titleFrom(upload.metadata);
    const token = creator.kind === "upload-token" ? creator : null;
    await catalog.createForUpload({
      videoId,
      uploadId: videoId,
      ...named,
      // An upload token's settings replace what the browser sent.
      title: token?.video.title || named.title,
      description: token?.video.description ?? named.description,
      ownerId: actingUserId(creator),
      uploadTokenId: token?.tokenId ?? null,
      ...(token && {
        visibility: token.video.visibility,
        tags: token.video.tags,
        passthrough: token.video.passthrough,
      }),
    });
    opts.metrics?.uploads.inc({ event: "created" });
    return {};
  };

  /**
   * The last byte is stored: the upload becomes the video's source and the video is queued.
   * On disk the upload stays (until it expires) so that HEAD tells a client whose last response
   * was lost that it is complete; its source is a hard link to the same bytes. A crash between
   * the link and the queueing is repaired by the completion sweeps.
   */
  const queueVideo = async (req: Request, upload: Upload) => {
    const request = uploadRequestOf(req);
    const { videoId } = request;
    opts.logger?.info({ videoId }, "upload finished");
    let sourceKey: string;
    try {
      sourceKey = await linkUploadToSource(storage, videoId, videoId);
    } catch (err) {
      if (!isNotFoundError(err)) throw err;
      // The video was deleted while this last PATCH was being written: its upload is gone.
      await removeUploadAndVideo(videoId);
      throw errors.uploadGone();
    }
    const finished = await catalog.finishUpload(videoId, { sourceKey, sourceSize: upload.size ?? upload.offset });
    if (finished === null) {
      await removeUploadAndVideo(videoId);
      throw errors.uploadGone();
    }
    opts.logger?.info({ videoId }, "video queued");
    opts.metrics?.uploads.inc({ event: "finished" });
    request.finished = true;
    return {};
  };

  /** Every failure as the error shape, with codes of its own; unexpected ones logged, never shown. */
  const answerError = async (req: Request, err: Error | { status_code: number; body: string }) => {
    let mapped = err instanceof ApiError ? err : fromTusError(err, config.maxUploadSize);
    if (!mapped && (err as unknown) === ERRORS.ERR_SIZE_EXCEEDED) {
      // More bytes than the upload declared, or (length deferred) than the server accepts.
      const upload = await backend.uploads.getUpload(uploadRequestOf(req).videoId).catch(() => null);
      mapped = upload?.size === undefined ? errors.uploadTooLarge(config.maxUploadSize) : errors.uploadLengthExceeded();
    }
    // The database is down or restarting: the upload is kept and resumable, try again shortly.
    if (!mapped && isDatabaseUnreachable(err)) mapped = errors.databaseUnavailable();
    if (!mapped && (err as NodeJS.ErrnoException).code === "ENOSPC") {
      opts.logger?.error({ err }, "no space left for an upload");
      mapped = errors.insufficientStorage();
    }
    if (!mapped) {
      opts.logger?.error({ err }, "upload request failed");
      mapped = errors.internal();
    }
    return { status_code: mapped.statusCode, body: JSON.stringify(errorBody(mapped.code, mapped.message)) };
  };

  /** The client terminated the upload (tus DELETE): its video goes too. */
  const cancelVideo = (videoId: string) => {
    opts.metrics?.uploads.inc({ event: "terminated" });
    catalog
      .cancelUpload(videoId)
      .catch((err) =>
        opts.logger?.warn({ err, uploadId: videoId }, "could not remove the video of a cancelled upload"),
      );
  };

  /** What is left of a finished upload goes once its source is stored (S3; on disk it expires). */
  const cleanUpFinished = (videoId: string) => {
    backend
      .removeFinished(videoId)
      .catch((err) => opts.logger?.warn({ err, uploadId: videoId }, "upload cleanup failed"));
  };

  return {
    videoIdOf,
    removeUploadAndVideo,
    cancelVideo,
    cleanUpFinished,
    /** The hooks of tus's server options. */
    hooks: {
      namingFunction,
      getFileIdFromRequest,
      generateUrl,
      onUploadCreate: createVideo,
      onUploadFinish: queueVideo,
      onResponseError: answerError,
    } satisfies Partial<ServerOptions>,
  };
}
