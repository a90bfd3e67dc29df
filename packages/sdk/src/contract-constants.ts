/**
 * The values of the HTTP contract that browser code needs at run time, kept free of TypeBox so
 * that importing them does not pull the schema builder into a page. `contract.ts` re-exports
 * them beside the schemas.
 */

/** Stable error codes; `message` is for people, `code` is for programs. */
export const ERROR_CODES = [
  "VALIDATION_FAILED",
  "VIDEO_NOT_FOUND",
  "NOT_FOUND",
  "UPLOAD_TOO_LARGE",
  "UPLOAD_LENGTH_EXCEEDED",
  "UPLOAD_NOT_FOUND",
  "INVALID_UPLOAD_URL",
  "UPLOAD_GONE",
  "UPLOAD_OFFSET_MISMATCH",
  "UPLOAD_LOCKED",
  "INSUFFICIENT_STORAGE",
  "BODY_TOO_LARGE",
  "UNSUPPORTED_MEDIA_TYPE",
  "METHOD_NOT_ALLOWED",
  "INVALID_URL",
  "HEADERS_TOO_LARGE",
  "MALFORMED_REQUEST",
  "REQUEST_TIMEOUT",
  "NOT_IMPLEMENTED",
  "INVALID_MEDIA_PATH",
  "MEDIA_NOT_FOUND",
  "MEDIA_URL_EXPIRED",
  "MEDIA_URL_INVALID",
  "RANGE_NOT_SATISFIABLE",
  "UNAUTHORIZED",
  "FORBIDDEN",
  "CSRF_REJECTED",
  "INVALID_CALLBACK_URL",
  "SESSION_REQUIRED",
  "RATE_LIMITED",
  "UPLOAD_LIMIT_REACHED",
  "UPLOAD_TOKEN_USED",
  "CONFLICT",
  "NOT_READY",
  "VIDEO_NOT_READY",
  "CAPTIONS_INVALID",
  "CHAPTERS_INVALID",
  "DATABASE_UNAVAILABLE",
  "INTERNAL",
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** Response header on tus upload creation naming the Video created for the upload. */
export const VIDEO_ID_HEADER = "Reelkit-Video-Id";
/** tus endpoint path, relative to the server's base URL. */
export const UPLOADS_PATH = "/api/uploads";
