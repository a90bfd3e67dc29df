// `@reelkit/core/s3`: storage in an S3 bucket. A subpath of its own so that importing
// `@reelkit/core` does not load the AWS SDK; `createStorage` loads it on demand.
export { checkBodyDigests, S3Storage, type S3StorageOptions, s3ClientConfig } from "./storage/s3-storage.js";
