import { randomBytes } from "node:crypto";
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  S3Client,
} from "@aws-sdk/client-s3";
import type { S3StorageConfig } from "@reelkit/core";
import { S3Storage, s3ClientConfig } from "@reelkit/core/s3";
import type { S3TestEngine } from "./engines.js";

/** A fresh bucket on the test S3 server, and a way to empty and remove it. */
export interface TestBucket {
  name: string;
  config: S3StorageConfig;
  storage: S3Storage;
  client: S3Client;
  /** Environment for a Reelkit process storing into this bucket. */
  env: Record<string, string>;
  drop(): Promise<void>;
}

export async function createTestBucket(engine: S3TestEngine, prefix = "reelkit-test"): Promise<TestBucket> {
  const name = `${prefix}-${randomBytes(5).toString("hex")}`;
  const config: S3StorageConfig = {
    kind: "s3",
    bucket: name,
    region: engine.region,
    endpoint: engine.endpoint,
    forcePathStyle: true,
    publicBaseUrl: null,
  };
  const client = new S3Client(s3ClientConfig(config));
  await client.send(new CreateBucketCommand({ Bucket: name }));
  const storage = new S3Storage({ bucket: name, client });
  return {
    name,
    config,
    storage,
    client,
    env: engine.env(name),
    async drop() {
      const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: name }));
      for (const u of uploads.Uploads ?? []) {
        await client.send(new AbortMultipartUploadCommand({ Bucket: name, Key: u.Key, UploadId: u.UploadId }));
      }
      for (;;) {
        const page = await client.send(new ListObjectsV2Command({ Bucket: name }));
        const objects = (page.Contents ?? []).map((o) => ({ Key: o.Key }));
        if (objects.length === 0) break;
        await client.send(new DeleteObjectsCommand({ Bucket: name, Delete: { Objects: objects, Quiet: true } }));
      }
      await client.send(new DeleteBucketCommand({ Bucket: name }));
      client.destroy();
    },
  };
}
