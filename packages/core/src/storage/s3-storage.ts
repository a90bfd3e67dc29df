import { createHash } from "node:crypto";
import { createReadStream, createWriteStream, ReadStream } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
  UploadPartCopyCommand,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import type { S3StorageConfig } from "../config.js";
import { objectHeaders } from "./object-headers.js";
import {
  assertValidKey,
  ObjectNotFoundError,
  type OpenedObject,
  type PutOptions,
  type Storage,
  type StoredObject,
} from "./storage.js";

/** Multipart part size for streamed writes: memory per write is about partSize × queueSize. */
const PART_SIZE = 8 * 1024 * 1024;
const QUEUE_SIZE = 4;
/** CopyObject copies at most 5 GiB in one request; larger objects are copied part by part. */
const MAX_SINGLE_COPY = 5 * 1024 ** 3;
const COPY_PART_SIZE = 512 * 1024 ** 2;

/**
 * The S3 client settings of a storage config. Credentials are not part of Reelkit's config:
 * the SDK's default chain finds them (environment, shared files, SSO, instance roles …).
 */
export function s3ClientConfig(config: S3StorageConfig): S3ClientConfig {
  return {
    region: config.region,
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
    forcePathStyle: config.forcePathStyle,
    // Checksums only where S3 requires them: S3-compatible servers differ in what they accept.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  };
}

/** The base64 MD5 of a body the SDK is about to send, when it can be read twice: bytes, or a whole file. */
async function md5Of(body: unknown): Promise<string | null> {
  if (typeof body === "string" || body instanceof Uint8Array) return createHash("md5").update(body).digest("base64");
  // The file streams @tus/s3-store uploads its parts from (the whole file, not yet read).
  const file = body as ReadStream & { start?: number; end?: number };
  if (file instanceof ReadStream && typeof file.path === "string" && !file.start && file.end === Infinity) {
    const hash = createHash("md5");
    for await (const chunk of createReadStream(file.path)) hash.update(chunk as Buffer);
    return hash.digest("base64");
  }
  return null;
}

/**
 * Sends a Content-MD5 with every PutObject and UploadPart whose body allows it, so that the
 * server checks it has the whole body. Without one, an S3-compatible server may store what a
 * request cut short brought: versitygw keeps the part of a client killed mid-body at its
 * declared length, zero-filled (measured: a SIGKILLed server's 8 MiB part stood in the bucket
 * with 7 MiB of zeros, and the resumed upload completed with them). AWS S3 rejects a short
 * body anyway; every S3 implementation checks Content-MD5. Adding it twice to a client is harmless.
 */
export function checkBodyDigests(client: Pick<S3Client, "middlewareStack">): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { Body?: unknown; ContentMD5?: string };
      const command = (context as { commandName?: string }).commandName;
      if ((command === "PutObjectCommand" || command === "UploadPartCommand") && !input.ContentMD5) {
        const digest = await md5Of(input.Body);
        if (digest) return next({ ...args, input: { ...input, ContentMD5: digest } as typeof args.input });
      }
      return next(args);
    },
    { step: "initialize", name: "reelkitContentMd5", override: true },
  );
}

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === "NoSuchKey" || e?.name === "NotFound" || e?.$metadata?.httpStatusCode === 404;
}

export interface S3StorageOptions {
  bucket: string;
  client: S3Client;
}

/**
 * Objects in an S3 bucket under the same keys as on disk. Streamed writes go through
 * lib-storage's multipart Upload (bounded memory, nothing visible until complete); every object
 * carries the Content-Type and Cache-Control of its key, so a CDN can serve the bucket directly.
 */
export class S3Storage implements Storage {
  readonly bucket: string;
  readonly client: S3Client;

  constructor(opts: S3StorageOptions) {
    this.bucket = opts.bucket;
    this.client = opts.client;
    checkBodyDigests(this.client);
  }

  static fromConfig(config: S3StorageConfig): S3Storage {
    return new S3Storage({ bucket: config.bucket, client: new S3Client(s3ClientConfig(config)) });
  }

  localPath(key: string): string | null {
    assertValidKey(key);
    return null;
  }

  private headers(key: string, opts?: PutOptions): { ContentType: string; CacheControl: string } {
    const defaults = objectHeaders(key);
    return {
      ContentType: opts?.contentType ?? defaults.contentType,
      CacheControl: opts?.cacheControl ?? defaults.cacheControl,
    };
  }

  async put(key: string, body: Readable | Buffer | string, opts?: PutOptions): Promise<void> {
    assertValidKey(key);
    const headers = this.headers(key, opts);
    if (typeof body === "string" || Buffer.isBuffer(body)) {
      const bytes = typeof body === "string" ? Buffer.from(body) : body;
      await this.client.send(
        new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: bytes, ContentLength: bytes.length, ...headers }),
      );
      return;
    }
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: key, Body: body, ...headers },
      partSize: PART_SIZE,
      queueSize: QUEUE_SIZE,
      leavePartsOnError: false,
    });
    // A failing source stream must fail the upload (lib-storage would otherwise wait on it).
    const failed = new Promise<never>((_, reject) => body.once("error", reject));
    failed.catch(() => {});
    try {
      await Promise.race([upload.done(), failed]);
    } catch (err) {
      await upload.abort().catch(() => {});
      throw err;
    }
  }

  async putFile(key: string, localPath: string, opts?: PutOptions): Promise<void> {
    assertValidKey(key);
    const { size } = await fs.stat(localPath);
    if (size <= PART_SIZE) {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: await fs.readFile(localPath),
          ContentLength: size,
          ...this.headers(key, opts),
        }),
      );
      return;
    }
    await this.put(key, createReadStream(localPath), opts);
  }

  async get(key: string, range?: { start: number; end?: number }): Promise<Readable> {
    assertValidKey(key);
    try {
      const res = await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Range: range ? `bytes=${range.start}-${range.end ?? ""}` : undefined,
        }),
      );
      if (!(res.Body instanceof Readable)) throw new Error(`S3 returned no stream for ${key}`);
      return res.Body;
    } catch (err) {
      if (isNotFound(err)) throw new ObjectNotFoundError(key);
      throw err;
    }
  }

  async getToFile(key: string, localPath: string): Promise<void> {
    await fs.mkdir(path.dirname(localPath), { recursive: true });
    await pipeline(await this.get(key), createWriteStream(localPath));
  }

  async stat(key: string): Promise<StoredObject | null> {
    assertValidKey(key);
    try {
      const res = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return {
        key,
        size: res.ContentLength ?? 0,
        modifiedAt: res.LastModified ?? new Date(0),
        etag: res.ETag?.replaceAll('"', ""),
      };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async open(key: string): Promise<OpenedObject | null> {
    const object = await this.stat(key);
    if (!object) return null;
    return { ...object, read: (range) => this.get(key, range), close: async () => {} };
  }

  async copy(fromKey: string, toKey: string): Promise<void> {
    assertValidKey(fromKey);
    assertValidKey(toKey);
    if (fromKey === toKey) return;
    const source = await this.stat(fromKey);
    if (!source) throw new ObjectNotFoundError(fromKey);
    const copySource = `${this.bucket}/${encodeURIComponent(fromKey).replaceAll("%2F", "/")}`;
    const headers = this.headers(toKey);
    if (source.size <= MAX_SINGLE_COPY) {
      await this.client.send(
        new CopyObjectCommand({
          Bucket: this.bucket,
          Key: toKey,
          CopySource: copySource,
          MetadataDirective: "REPLACE",
          ...headers,
        }),
      );
      return;
    }
    const { UploadId } = await this.client.send(
      new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: toKey, ...headers }),
    );
    try {
      const parts: { ETag: string; PartNumber: number }[] = [];
      for (let start = 0, n = 1; start < source.size; start += COPY_PART_SIZE, n++) {
        const end = Math.min(start + COPY_PART_SIZE, source.size) - 1;
        const res = await this.client.send(
          new UploadPartCopyCommand({
            Bucket: this.bucket,
            Key: toKey,
            UploadId,
            PartNumber: n,
            CopySource: copySource,
            CopySourceRange: `bytes=${start}-${end}`,
          }),
        );
        parts.push({ ETag: res.CopyPartResult?.ETag ?? "", PartNumber: n });
      }
      await this.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key: toKey,
          UploadId,
          MultipartUpload: { Parts: parts },
        }),
      );
    } catch (err) {
      await this.client
        .send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: toKey, UploadId }))
        .catch(() => {});
      throw err;
    }
  }

  async move(fromKey: string, toKey: string): Promise<void> {
    if (fromKey === toKey) return;
    await this.copy(fromKey, toKey);
    await this.delete(fromKey);
  }

  async delete(key: string): Promise<void> {
    assertValidKey(key);
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }

  async deletePrefix(prefix: string): Promise<void> {
    // Listed and deleted page by page (1,000 keys, the DeleteObjects maximum).
    for await (const page of this.pages(prefix)) {
      if (page.length === 0) continue;
      const res = await this.client.send(
        new DeleteObjectsCommand({
          Bucket: this.bucket,
          Delete: { Objects: page.map((o) => ({ Key: o.key })), Quiet: true },
        }),
      );
      const failed = res.Errors ?? [];
      if (failed.length > 0) {
        throw new Error(`could not delete ${failed.length} objects under ${prefix}: ${failed[0]?.Message ?? ""}`);
      }
    }
  }

  async list(prefix: string): Promise<StoredObject[]> {
    const out: StoredObject[] = [];
    for await (const page of this.pages(prefix)) out.push(...page);
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  private async *pages(prefix: string): AsyncGenerator<StoredObject[]> {
    const normalized = prefix.replace(/\/+$/, "");
    assertValidKey(normalized);
    let token: string | undefined;
    do {
      const res = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: `${normalized}/`, ContinuationToken: token }),
      );
      yield (res.Contents ?? []).flatMap((o) =>
        o.Key ? [{ key: o.Key, size: o.Size ?? 0, modifiedAt: o.LastModified ?? new Date(0), etag: o.ETag }] : [],
      );
      token = res.IsTruncated ? res.NextContinuationToken : undefined;
    } while (token);
  }
}
