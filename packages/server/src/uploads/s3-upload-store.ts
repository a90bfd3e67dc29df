import type { Readable } from "node:stream";
import type { Part } from "@aws-sdk/client-s3";
import { type Config, keys, objectHeaders, type S3StorageConfig, type Storage } from "@reelkit/core";
import { checkBodyDigests, s3ClientConfig } from "@reelkit/core/s3";
import { type MetadataValue, S3Store } from "@tus/s3-store";
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

/** The commands of @tus/s3-store whose `Key` is the upload's object (the multipart upload). */
const MULTIPART_COMMANDS = new Set([
  "createMultipartUpload",
  "uploadPart",
  "listParts",
  "completeMultipartUpload",
  "abortMultipartUpload",
]);

/**
 * tus data in S3 with parts sized to the configured maximum upload. The upload's bookkeeping
 * (`.info`, the `.part` of a short last chunk) stays under its tus id in `uploads/`, but its
 * multipart upload is created at `objectKey(tusId)`, the video's source key: completing it makes
 * the source (atomically, as S3 completes a multipart upload), with no copy of the whole file
 * afterwards (a CopyObject of a large source took as long as half its upload). Uploads begun
 * under the tus id (by an earlier version) keep it and are copied when they finish.
 */
class ReelkitS3Store extends S3Store {
  /** Unfinished uploads whose multipart upload was created under their tus id. */
  readonly #underTusId = new Set<string>();
  readonly #keyOf: (tusId: string) => string;
  /** Part uploads in flight, per upload. */
  readonly #inFlight = new Map<string, Set<Promise<string>>>();

  constructor(
    opts: ConstructorParameters<typeof S3Store>[0] & {
      maxUploadSize: number;
      /** Where the multipart upload of a new upload is created. */
      objectKey: (tusId: string) => string;
      /** The tus id of an upload's object key, or null for other objects. */
      tusIdOf: (objectKey: string) => string | null;
    },
  ) {
    super(opts);
    // Uploads of unknown length (creation-defer-length) get the part size of the largest upload
    // allowed here, not of S3's 5 TiB maximum.
    (this as { maxUploadSize: number }).maxUploadSize = opts.maxUploadSize;
    const underTusId = this.#underTusId;
    const keyOf = (tusId: string) => (underTusId.has(tusId) ? tusId : opts.objectKey(tusId));
    this.#keyOf = keyOf;
    const client = this.client;
    // A part or `.part` cut short by a crash must not be stored as if whole.
    checkBodyDigests(client);
    this.client = new Proxy(client, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (typeof value !== "function") return value;
        if (prop === "listMultipartUploads") {
          // The expiry sweep derives `.info` and `.part` from each listed key, and aborts the
          // multipart upload under it: it gets tus ids, and those listed under their tus id
          // (begun before this layout) stay there.
          return async (...args: unknown[]) => {
            const listed = (await value.apply(target, args)) as { Uploads?: { Key?: string }[] };
            for (const u of listed.Uploads ?? []) {
              const tusId = u.Key ? opts.tusIdOf(u.Key) : null;
              if (tusId) u.Key = tusId;
              else if (u.Key && opts.objectKey(u.Key) !== u.Key) underTusId.add(u.Key);
            }
            return listed;
          };
        }
        if (typeof prop !== "string" || !MULTIPART_COMMANDS.has(prop)) return value;
        return (input: { Key: string }, ...rest: unknown[]) => {
          const Key = keyOf(input.Key);
          if (prop !== "createMultipartUpload" || Key === input.Key)
            return value.call(target, { ...input, Key }, ...rest);
          // The object becomes the source: it carries the headers of its key, as every stored object does.
          const { contentType, cacheControl } = objectHeaders(Key);
          return value.call(target, { ...input, Key, ContentType: contentType, CacheControl: cacheControl }, ...rest);
        };
      },
    });
  }

  /** Every operation on an upload reads its `.info` first: where its multipart upload lives. */
  protected override async getMetadata(id: string): Promise<MetadataValue> {
    const metadata = await super.getMetadata(id);
    if (metadata.file.storage?.path === id) this.#underTusId.add(id);
    else this.#underTusId.delete(id);
    return metadata;
  }

  /** A finished upload's bytes (tus GET): its object. */
  override read(id: string) {
    return super.read(this.#keyOf(id));
  }

  protected override uploadPart(metadata: MetadataValue, body: Parameters<S3Store["uploadPart"]>[1], n: number) {
    const id = metadata.file.id;
    const upload = super.uploadPart(metadata, body, n);
    const running = this.#inFlight.get(id) ?? new Set<Promise<string>>();
    this.#inFlight.set(id, running);
    running.add(upload);
    const settled = () => {
      running.delete(upload);
      if (running.size === 0 && this.#inFlight.get(id) === running) this.#inFlight.delete(id);
    };
    upload.then(settled, settled);
    return upload;
  }

  /**
   * The store uploads a request's parts in parallel and its short last chunk as `.part`; a crash
   * (SIGKILL, a lost machine) can leave a later part stored and an earlier one missing. The
   * store counts every listed part towards the offset and numbers the next part after the
   * highest, so the resumed upload completed with a hole and a repeated part: the right length,
   * the wrong bytes. Only the parts numbered 1…n without a gap count, so the client resends from
   * the first missing byte (part n covers the same bytes whoever uploads it, so stray later parts
   * are overwritten by identical ones), and `.part` is written only once every part before it is
   * stored, so it never stands after a hole.
   */
  protected override async retrieveParts(id: string, partNumberMarker?: string): Promise<Part[]> {
    const parts = await super.retrieveParts(id, partNumberMarker);
    // A page of the store's own recursive listing: the whole list is cut below.
    if (partNumberMarker) return parts;
    const unbroken: Part[] = [];
    for (const part of parts) {
      if (part.PartNumber !== unbroken.length + 1) break;
      unbroken.push(part);
    }
    return unbroken;
  }

  protected override async uploadIncompletePart(id: string, body: Readable): Promise<string> {
    await Promise.all(this.#inFlight.get(id) ?? []);
    return super.uploadIncompletePart(id, body as Parameters<S3Store["uploadIncompletePart"]>[1]);
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
    objectKey: (id) => (id.startsWith(prefix) ? keys.source(id.slice(prefix.length)) : id),
    tusIdOf: (key) => {
      const videoId = /^videos\/([^/]+)\/source$/.exec(key)?.[1];
      return videoId && keys.source(videoId) === key ? `${prefix}${videoId}` : null;
    },
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
