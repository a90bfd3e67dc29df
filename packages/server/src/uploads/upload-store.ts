import { type Config, keys, type Storage } from "@reelkit/core";
import type { DataStore } from "@tus/server";
import type { UploadStore } from "./upload-completion.js";
import { UploadFileStore } from "./upload-file-store.js";

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

export async function createUploadBackend(opts: {
  config: Pick<Config, "storage" | "maxUploadSize" | "uploadExpirySeconds">;
  storage: Storage;
}): Promise<UploadBackend> {
  const { config, storage } = opts;
  if (config.storage.kind === "s3") {
    // @tus/s3-store and the AWS SDK load only with S3 storage.
    const { createS3UploadBackend } = await import("./s3-upload-store.js");
    return createS3UploadBackend({ config: { ...config, storage: config.storage }, storage });
  }
  const directory = storage.localPath("uploads");
  if (!directory) throw new Error("local uploads need local storage");
  const datastore = new UploadFileStore({
    directory,
    expirationPeriodInMilliseconds: config.uploadExpirySeconds * 1000,
  });
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
