import { keys, type Logger, ObjectNotFoundError, type Storage } from "@reelkit/core";

/** What finishing an upload needs from the catalog (UploadLifecycle satisfies it). */
export interface CompletionCatalog {
  /**
   * Moves the video to QUEUED and writes its outbox row in one transaction; a no-op when
   * repeated. Resolves null when there is no such video (deleted while it was uploading).
   */
  finishUpload(videoId: string, source: { sourceKey: string; sourceSize: number }): Promise<unknown>;
  /** Videos still in UPLOADING. */
  listUploading(): Promise<{ id: string; uploadId: string | null; createdAt: Date }[]>;
  /** UPLOADING -> FAILED with a reason the owner can read. */
  failUpload(videoId: string, reason: string): Promise<unknown>;
  /** Videos still UPLOADING whose upload token expired before `expiredBefore`. */
  listTokenExpiredUploads(expiredBefore: Date): Promise<{ id: string; uploadId: string | null }[]>;
}

export const UPLOAD_EXPIRED_REASON = "The upload expired before it was finished.";
export const UPLOAD_TOKEN_EXPIRED_REASON = "The upload token expired before the upload finished.";

/** The part of the tus data store the sweep reads (FileStore satisfies it). */
export interface UploadStore {
  /** Rejects when the upload does not exist. */
  getUpload(id: string): Promise<{ offset: number; size?: number; creation_date?: string | undefined }>;
  /**
   * Removes a finished upload once the sweep has queued its video; absent where finished
   * uploads are kept until they expire (on disk, so that HEAD still answers).
   */
  remove?(id: string): Promise<void>;
}

/**
 * Makes the finished tus upload the video's source through the storage port: a hard link on
 * disk (no copy, atomic). In S3 the upload's multipart upload completes at the source key
 * itself, so the source is there already; an upload begun under its tus id is copied. A source
 * key that exists is always complete (a link, a completed multipart upload, a finished copy).
 */
export async function linkUploadToSource(storage: Storage, uploadId: string, videoId: string): Promise<string> {
  const sourceKey = keys.source(videoId);
  if (!(await storage.stat(sourceKey))) await storage.copy(keys.upload(uploadId), sourceKey);
  return sourceKey;
}

/** The object (or file) is not there: storage's ObjectNotFoundError or a plain ENOENT. */
export function isNotFoundError(err: unknown): boolean {
  return err instanceof ObjectNotFoundError || (err as NodeJS.ErrnoException | null)?.code === "ENOENT";
}

export interface FinishInterruptedUploadsOptions {
  uploads: UploadStore;
  storage: Storage;
  catalog: CompletionCatalog;
  logger?: Logger;
  /**
   * While the server runs, only uploads whose last byte was written before this time are
   * finished: a newer one may still be inside its own `onUploadFinish`. Absent at start-up.
   */
  settledBefore?: Date;
}

/**
 * Sweep for the failure window of `onUploadFinish`: a process that died (or a database that
 * failed) after the last byte was stored but before the catalog moved the video to QUEUED leaves
 * it UPLOADING, and the client sees a complete upload (HEAD offset = length), so no request would
 * ever finish it. Runs at start-up and, with `settledBefore`, periodically.
 * For every UPLOADING video whose tus upload is complete, or whose source is already in
 * storage, this does what `onUploadFinish` does. Idempotent: `finishUpload` only queues a video
 * that is still UPLOADING. Returns the ids it finished.
 */
export async function finishInterruptedUploads(opts: FinishInterruptedUploadsOptions): Promise<string[]> {
  const { uploads, storage, catalog, logger } = opts;
  const finished: string[] = [];
  for (const video of await catalog.listUploading()) {
    const uploadId = video.uploadId ?? video.id;
    try {
      const upload = await uploads.getUpload(uploadId).catch(() => null);
      let sourceSize: number;
      let sourceKey: string;
      if (upload) {
        // Still resumable: the client will send the rest.
        if (upload.size === undefined || upload.offset !== upload.size) continue;
        if (opts.settledBefore) {
          // Its bytes: the source (S3, completed in place) or the upload's own object.
          const data = (await storage.stat(keys.source(video.id))) ?? (await storage.stat(keys.upload(uploadId)));
          if (!data || data.modifiedAt >= opts.settledBefore) continue;
        }
        sourceKey = await linkUploadToSource(storage, uploadId, video.id);
        sourceSize = upload.size;
      } else {
        sourceKey = keys.source(video.id);
        const source = await storage.stat(sourceKey);
        if (!source) continue;
        sourceSize = source.size;
      }
      await catalog.finishUpload(video.id, { sourceKey, sourceSize });
      finished.push(video.id);
      if (upload && uploads.remove) {
        await uploads.remove(uploadId).catch((err) => logger?.warn({ err, uploadId }, "upload cleanup failed"));
      }
    } catch (err) {
      logger?.error({ err, videoId: video.id }, "could not finish an interrupted upload");
    }
  }
  if (finished.length > 0) logger?.info({ videoIds: finished }, "finished uploads interrupted by a restart");
  return finished;
}

export interface FailExpiredUploadsOptions {
  uploads: UploadStore;
  storage: Storage;
  catalog: CompletionCatalog;
  /** Videos created before this time whose upload is gone can no longer finish. */
  createdBefore: Date;
  logger?: Logger;
}

/**
 * After the expiry sweep removed abandoned tus uploads, their videos would stay UPLOADING
 * forever: mark them FAILED so the owner sees why. Only videos older than the expiry period
 * whose upload and source are both gone are touched, so an upload in progress never is.
 */
export async function failExpiredUploads(opts: FailExpiredUploadsOptions): Promise<string[]> {
  const { uploads, storage, catalog, createdBefore, logger } = opts;
  const failed: string[] = [];
  for (const video of await catalog.listUploading()) {
    if (video.createdAt >= createdBefore) continue;
    try {
      const upload = await uploads.getUpload(video.uploadId ?? video.id).catch(() => null);
      if (upload || (await storage.stat(keys.source(video.id)))) continue;
      await catalog.failUpload(video.id, UPLOAD_EXPIRED_REASON);
      failed.push(video.id);
    } catch (err) {
      logger?.error({ err, videoId: video.id }, "could not fail an expired upload");
    }
  }
  if (failed.length > 0) logger?.info({ videoIds: failed }, "uploads expired before they were finished");
  return failed;
}

export interface FailTokenExpiredUploadsOptions {
  uploads: UploadStore;
  storage: Storage;
  catalog: CompletionCatalog;
  /** Removes what the store holds of an upload, finished or not (UploadBackend.discard). */
  discard(uploadId: string): Promise<void>;
  /**
   * Only uploads whose token expired before this time, and whose last byte was written before
   * it, are failed: a PATCH that began before the token expired may still be writing.
   */
  settledBefore: Date;
  logger?: Logger;
}

/**
 * An upload whose token expired can never be resumed (the token is refused), yet the tus expiry
 * sweep would leave its video UPLOADING, and its partial data stored, for the whole upload expiry
 * period. This fails such videos at once, with a reason the owner can read, and discards their
 * partial data through the store. Complete uploads, and those whose source is already stored,
 * are left to `finishInterruptedUploads`.
 * Safe to repeat after a crash: the data is discarded before the video is failed, so a sweep
 * interrupted in between finds the video still UPLOADING with nothing left to discard, and
 * fails it; `failUpload` only moves a video that is still UPLOADING. Returns the ids it failed.
 */
export async function failTokenExpiredUploads(opts: FailTokenExpiredUploadsOptions): Promise<string[]> {
  const { uploads, storage, catalog, settledBefore, logger } = opts;
  const failed: string[] = [];
  for (const video of await catalog.listTokenExpiredUploads(settledBefore)) {
    const uploadId = video.uploadId ?? video.id;
    try {
      const upload = await uploads.getUpload(uploadId).catch(() => null);
      if (upload) {
        if (upload.size !== undefined && upload.offset === upload.size) continue;
        if ((await lastActivity(storage, uploadId, upload)) >= settledBefore.getTime()) continue;
      } else if (await storage.stat(keys.source(video.id))) {
        continue;
      }
      await opts.discard(uploadId);
      await catalog.failUpload(video.id, UPLOAD_TOKEN_EXPIRED_REASON);
      failed.push(video.id);
    } catch (err) {
      logger?.error({ err, videoId: video.id }, "could not fail an upload whose token expired");
    }
  }
  if (failed.length > 0) logger?.info({ videoIds: failed }, "uploads failed: their upload token expired");
  return failed;
}

/**
 * When an unfinished upload last received bytes, as far as the store tells: its `creation_date`
 * (which the local store moves to the last write), or the modification time of its data where
 * storage has it, whichever is later.
 */
async function lastActivity(
  storage: Storage,
  uploadId: string,
  upload: { creation_date?: string | undefined },
): Promise<number> {
  const created = upload.creation_date ? Date.parse(upload.creation_date) : 0;
  const stats = await Promise.all(
    [keys.upload(uploadId), `${keys.upload(uploadId)}.part`].map((k) => storage.stat(k).catch(() => null)),
  );
  return Math.max(created, ...stats.map((s) => s?.modifiedAt.getTime() ?? 0));
}
