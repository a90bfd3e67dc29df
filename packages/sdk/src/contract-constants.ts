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
  "UPLOAD_TOKEN_MISMATCH",
  "UPLOAD_TOKEN_EXPIRED",
  "UPLOAD_TYPE_NOT_ALLOWED",
  "API_KEY_SCOPE",
  "CONFLICT",
  "CHANNEL_NOT_FOUND",
  "HANDLE_TAKEN",
  "INVALID_IMAGE",
  "NOT_READY",
  "VIDEO_NOT_READY",
  "CAPTIONS_INVALID",
  "CHAPTERS_INVALID",
  "DATABASE_UNAVAILABLE",
  "WEBHOOK_URL_REFUSED",
  "WEBHOOK_DISABLED",
  "INTERNAL",
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** The events a webhook endpoint subscribes to (see `docs/webhooks.md`). */
export const WEBHOOK_EVENT_TYPES = [
  "video.created",
  "video.uploaded",
  "video.playable",
  "video.ready",
  "video.failed",
  "video.updated",
  "video.deleted",
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** A channel's handle: 3–30 of a-z, 0-9, `-` and `_`, starting with a letter or digit (stored lower-case). */
export const HANDLE_PATTERN = "^[a-z0-9][a-z0-9_-]{2,29}$";

/** Response header on tus upload creation naming the Video created for the upload. */
export const VIDEO_ID_HEADER = "Reelkit-Video-Id";
/** Response header naming the error `code` of a failed request: a HEAD has no body to carry it. */
export const ERROR_CODE_HEADER = "Reelkit-Error-Code";
/** tus endpoint path, relative to the server's base URL. */
export const UPLOADS_PATH = "/api/uploads";
