import { type Config, keys, type S3StorageConfig, type Storage } from "@reelkit/core";
import { s3ClientConfig } from "@reelkit/core/s3";
import { S3Store } from "@tus/s3-store";
import type { KvStore } from "@tus/server";
import type { UploadBackend } from "./upload-store.js";

/** S3 allows 10,000 parts per multipart upload; parts must be at least 5 MiB. */
const MAX_PARTS = 10_000;
const MIN_PART_SIZE = 8 * 1024 * 1024;

/** The smallest part size (whole MiB, at least 8 MiB) with which 10,000 parts hold `maxUploadSize`. */
export function partSizeFor(maxUploadSize: number): number {
  const mib = 1024 * 1024;
  return Math.max(MIN_PART_SIZE, Math.ceil(maxUploadSize / MAX_PARTS / mib) * mib);
}

/**
 * @tus/s3-store caches each upload's `.info` metadata (size, multipart upload id) per process.
 * With several server instances one process's copy goes stale when another declares the length,
 * finishes or terminates the upload, so nothing is cached: every request reads the `.info` object.
 */
class NoCache<T> implements KvStore<T> {
  async get(): Promise<T | undefined> {
    return undefined;
  }
  async set(): Promise<void> {}
  async delete(): Promise<void> {}
}

/** tus data in S3 under `uploads/`, with parts sized to the configured maximum upload. */
class ReelkitS3Store extends S3Store {
  constructor(opts: ConstructorParameters<typeof S3Store>[0] & { maxUploadSize: number }) {
    super(opts);
    // Uploads of unknown length (creation-defer-length) get the part size of the largest upload
    // allowed here, not of S3's 5 TiB maximum.
    (this as { maxUploadSize: number }).maxUploadSize = opts.maxUploadSize;
  }
}

/** The tus store of S3 storage: uploads are multipart uploads under `uploads/` in the bucket. */
export function createS3UploadBackend(opts: {
  config: Pick<Config, "maxUploadSize" | "uploadExpirySeconds"> & { storage: S3StorageConfig };
  storage: Storage;
}): UploadBackend {
  const { config, storage } = opts;
  const expirationPeriodInMilliseconds = config.uploadExpirySeconds * 1000;
  const s3 = config.storage;
  const prefix = `${keys.upload("x").slice(0, -1)}`;
  const datastore = new ReelkitS3Store({
    s3ClientConfig: { ...s3ClientConfig(s3), bucket: s3.bucket },
    partSize: partSizeFor(config.maxUploadSize),
    maxUploadSize: config.maxUploadSize,
    expirationPeriodInMilliseconds,
    // Expiry is swept by listing multipart uploads; object tags (for bucket lifecycle rules)
    // are not needed and not every S3-compatible server supports them.
    useTags: false,
    cache: new NoCache(),
  });
  const tusId = (videoId: string) => `${prefix}${videoId}`;
  // The multipart upload of a finished upload is complete, so the store's own remove (which
  // aborts it) cannot run: its objects are deleted directly.
  const removeFinished = async (videoId: string) => {
    const key = tusId(videoId);
    await Promise.all([key, `${key}.info`, `${key}.part`].map((k) => storage.delete(k)));
  };
  return {
    datastore,
    tusId,
    videoId: (id) => (id.startsWith(prefix) ? id.slice(prefix.length) : null),
    uploads: {
      getUpload: (videoId) => datastore.getUpload(tusId(videoId)),
      // The sweeps remove only uploads they have just finished.
      remove: removeFinished,
    },
    removeFinished,
    async discard(videoId) {
      // Aborts the multipart upload and deletes its `.info`; a finished or unknown one throws.
      await datastore.remove(tusId(videoId)).catch(() => undefined);
      await removeFinished(videoId);
    },
  };
}
