import type { ErrorCode } from "@reelkit/sdk/contract";
import type { FastifyError, FastifyInstance } from "fastify";

/** An error that the API shows to clients as `{ error: { code, message } }` with its status. */
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** The error catalogue: one named constructor per client-visible failure. */
export const errors = {
  validation: (message: string) => new ApiError(400, "VALIDATION_FAILED", message),
  notFound: (message = "Not found") => new ApiError(404, "NOT_FOUND", message),
  videoNotFound: (id: string) => new ApiError(404, "VIDEO_NOT_FOUND", `No video with id ${id}`),
  uploadTooLarge: (max: number) =>
    new ApiError(413, "UPLOAD_TOO_LARGE", `Upload exceeds the maximum size of ${max} bytes`),
  uploadNotFound: () => new ApiError(404, "UPLOAD_NOT_FOUND", "No such upload"),
  invalidMediaPath: () => new ApiError(400, "INVALID_MEDIA_PATH", "Invalid media path"),
  mediaNotFound: () => new ApiError(404, "MEDIA_NOT_FOUND", "No such media file"),
  mediaUrlExpired: () =>
    new ApiError(403, "MEDIA_URL_EXPIRED", "This media URL has expired; get a fresh one from the API"),
  mediaUrlInvalid: () => new ApiError(403, "MEDIA_URL_INVALID", "This media URL's signature is not valid"),
  rangeNotSatisfiable: () => new ApiError(416, "RANGE_NOT_SATISFIABLE", "Requested range not satisfiable"),
  unauthorized: (message = "Sign in or send a valid token") => new ApiError(401, "UNAUTHORIZED", message),
  forbidden: (message = "Not allowed") => new ApiError(403, "FORBIDDEN", message),
  csrf: () => new ApiError(403, "CSRF_REJECTED", "Cross-site request refused: the Origin is not trusted"),
  rateLimited: (retryAfterSeconds: number) =>
    new ApiError(429, "RATE_LIMITED", `Too many requests; try again in ${retryAfterSeconds} s`),
  uploadLimitReached: (max: number) =>
    new ApiError(429, "UPLOAD_LIMIT_REACHED", `At most ${max} unfinished uploads at once; finish or cancel one first`),
  internal: () => new ApiError(500, "INTERNAL", "Internal server error"),
};

export function errorBody(code: string, message: string) {
  return { error: { code, message } };
}

/** Installs the one root error handler and the 404 handler. */
export function registerErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | ApiError, request, reply) => {
    if (err instanceof ApiError) {
      return reply.status(err.statusCode).send(errorBody(err.code, err.message));
    }
    const fe = err as FastifyError;
    if (fe.validation) {
      return reply.status(400).send(errorBody("VALIDATION_FAILED", fe.message));
    }
    const status = typeof fe.statusCode === "number" ? fe.statusCode : 500;
    if (status >= 500) {
      request.log.error({ err }, "request failed");
      return reply.status(500).send(errorBody("INTERNAL", "Internal server error"));
    }
    // Fastify's own 4xx errors (bad JSON, unsupported media type, body too large).
    const code = status === 413 ? "UPLOAD_TOO_LARGE" : status === 404 ? "NOT_FOUND" : "VALIDATION_FAILED";
    return reply.status(status).send(errorBody(code, fe.message));
  });
  app.setNotFoundHandler((request, reply) => {
    reply.status(404).send(errorBody("NOT_FOUND", `Route ${request.method} ${request.url.split("?")[0]} not found`));
  });
}
