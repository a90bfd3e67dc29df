import { ERROR_CODE_HEADER, VIDEO_ID_HEADER } from "@reelkit/sdk/contract";

/** Methods a cross-origin page may use: the catalog API and tus (PATCH to upload, DELETE to cancel). */
export const CORS_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const;

/** Request headers the SDK, the React kit and tus clients send. */
export const CORS_ALLOWED_HEADERS = [
  "Authorization",
  "Content-Type",
  "Accept",
  "Cache-Control",
  "Last-Event-ID",
  "X-Requested-With",
  "X-HTTP-Method-Override",
  "Tus-Resumable",
  "Upload-Offset",
  "Upload-Length",
  "Upload-Metadata",
  "Upload-Defer-Length",
  "Upload-Concat",
] as const;

/** Response headers a cross-origin page must be able to read (tus needs most of them). */
export const CORS_EXPOSED_HEADERS = [
  "Location",
  "Upload-Offset",
  "Upload-Length",
  "Upload-Metadata",
  "Upload-Defer-Length",
  "Upload-Concat",
  "Upload-Expires",
  "Tus-Resumable",
  "Tus-Version",
  "Tus-Extension",
  "Tus-Max-Size",
  VIDEO_ID_HEADER,
  ERROR_CODE_HEADER,
] as const;
