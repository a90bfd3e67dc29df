import path from "node:path";
import type { Config } from "../config.js";
import { LocalStorage } from "./local-storage.js";
import type { Storage } from "./storage.js";

export { LocalStorage } from "./local-storage.js";
export * from "./object-headers.js";
export type { S3Storage, S3StorageOptions } from "./s3-storage.js";
export * from "./storage.js";

/**
 * Picks the storage backend for a config: `<dataDir>/media`, or the S3 bucket of
 * `REELKIT_STORAGE=s3`. The AWS SDK is loaded only for the latter.
 */
export async function createStorage(config: Pick<Config, "dataDir" | "storage">): Promise<Storage> {
  if (config.storage.kind === "s3") {
    const { S3Storage } = await import("./s3-storage.js");
    return S3Storage.fromConfig(config.storage);
  }
  return new LocalStorage(path.join(config.dataDir, "media"));
}
