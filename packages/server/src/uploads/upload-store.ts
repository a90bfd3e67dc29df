import { type Config, keys, type Storage, s3ClientConfig } from "@reelkit/core";
import { S3Store } from "@tus/s3-store";
import type { DataStore, KvStore } from "@tus/server";
import type { UploadStore } from "./upload-completion.js";
import { UploadFileStore } from "./upload-file-store.js";

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

/**
 * The tus data store of a storage backend and the mapping between tus upload ids and videos.
 * On disk, tus names files after the video id in `<media>/uploads`; in S3 the tus id is the object
 * key (`uploads/<videoId>`, with `.info` and `.part` beside it), while URLs keep the bare video id.
 */
export interface UploadBackend {
  datastore: DataStore;
  tusId(videoId: string): string;
  /** The video id of a tus id; null for an id this backend never issues. */
  videoId(tusId: string): string | null;
  /** The sweeps' view of the store, by video id. */
  uploads: UploadStore;
  /** Removes what is left of a finished upload once its source is stored. */
  removeFinished(videoId: string): Promise<void>;
  /**
   * Removes an upload at once whatever its state (its video was deleted): an unfinished S3
   * multipart upload is aborted, so its stored parts are freed now rather than at expiry.
   */
  discard(videoId: string): Promise<void>;
}

export function createUploadBackend(opts: {
  config: Pick<Config, "storage" | "maxUploadSize" | "uploadExpirySeconds">;
  storage: Storage;
}): UploadBackend {
  const { config, storage } = opts;
  const expirationPeriodInMilliseconds = config.uploadExpirySeconds * 1000;
  if (config.storage.kind === "s3") {
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
  const directory = storage.localPath("uploads");
  if (!directory) throw new Error("local uploads need local storage");
  const datastore = new UploadFileStore({ directory, expirationPeriodInMilliseconds });
  return {
    datastore,
    tusId: (videoId) => videoId,
    videoId: (id) => id,
    // No `remove`: the sweeps leave finished uploads to expire too.
    uploads: { getUpload: (videoId) => datastore.getUpload(videoId) },
    // On disk a finished upload stays until it expires (its data is a hard link to the source):
    // a client that lost the last response learns from HEAD that it is complete.
    removeFinished: async () => undefined,
    async discard(videoId) {
      const file = keys.upload(videoId);
      await Promise.all(["", ".json"].map((ext) => storage.delete(`${file}${ext}`)));
    },
  };
}
