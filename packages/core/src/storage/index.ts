import path from "node:path";
import type { Config } from "../config.js";
import { LocalStorage } from "./local-storage.js";
import { S3Storage } from "./s3-storage.js";
import type { Storage } from "./storage.js";

export { LocalStorage } from "./local-storage.js";
export * from "./object-headers.js";
export { S3Storage, type S3StorageOptions, s3ClientConfig } from "./s3-storage.js";
export * from "./storage.js";

/** Picks the storage backend for a config: `<dataDir>/media`, or the S3 bucket of `REELKIT_STORAGE=s3`. */
export function createStorage(config: Pick<Config, "dataDir" | "storage">): Storage {
  if (config.storage.kind === "s3") return S3Storage.fromConfig(config.storage);
  return new LocalStorage(path.join(config.dataDir, "media"));
}
