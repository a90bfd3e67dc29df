import http from "node:http";
import type { Socket } from "node:net";
import { ERROR_CODE_HEADER, type ErrorCode } from "@reelkit/sdk/contract";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import FindMyWay from "find-my-way";
import { isDatabaseUnreachable } from "../db/database-errors.js";

/** An error that the API shows to clients as `{ error: { code, message } }` with its status. */
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: ErrorCode,
    message: string,
    /** Sent as `Retry-After`: when trying again makes sense. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** How long a client should wait before retrying a request the database could not serve. */
export const DATABASE_RETRY_AFTER_SECONDS = 2;

/** The error catalogue: one named constructor per client-visible failure. */
export const errors = {
  validation: (message: string) => new ApiError(400, "VALIDATION_FAILED", message),
  notFound: (message = "Not found") => new ApiError(404, "NOT_FOUND", message),
  videoNotFound: (id: string) => new ApiError(404, "VIDEO_NOT_FOUND", `No video with id ${id}`),
  uploadTooLarge: (max: number) =>
    new ApiError(413, "UPLOAD_TOO_LARGE", `Upload exceeds the maximum size of ${max} bytes (REELKIT_MAX_UPLOAD_SIZE)`),
  uploadLengthExceeded: () =>
    new ApiError(413, "UPLOAD_LENGTH_EXCEEDED", "The request body goes past the upload's declared Upload-Length"),
  uploadNotFound: () => new ApiError(404, "UPLOAD_NOT_FOUND", "No such upload"),
  invalidUploadUrl: () =>
    new ApiError(
      400,
      "INVALID_UPLOAD_URL",
      "An upload's URL is /api/uploads/<id> as the server returned it: no query string, no further path",
    ),
  uploadGone: () =>
    new ApiError(410, "UPLOAD_GONE", "The upload no longer exists (expired, cancelled or its video deleted)"),
  uploadOffsetMismatch: () =>
    new ApiError(409, "UPLOAD_OFFSET_MISMATCH", "Upload-Offset does not match the upload's current offset"),
  uploadLocked: () => new ApiError(423, "UPLOAD_LOCKED", "Another request is writing to this upload"),
  bodyTooLarge: (limit: number) =>
    new ApiError(413, "BODY_TOO_LARGE", `The request body exceeds the limit of ${limit} bytes`),
  unsupportedMediaType: (message: string) => new ApiError(415, "UNSUPPORTED_MEDIA_TYPE", message),
  methodNotAllowed: (method: string, path: string) =>
    new ApiError(405, "METHOD_NOT_ALLOWED", `Method ${method} is not allowed on ${path}`),
  insufficientStorage: () =>
    new ApiError(507, "INSUFFICIENT_STORAGE", "The server has no space left to store the upload"),
  notImplemented: (message: string) => new ApiError(501, "NOT_IMPLEMENTED", message),
  invalidMediaPath: () => new ApiError(400, "INVALID_MEDIA_PATH", "Invalid media path"),
  mediaNotFound: () => new ApiError(404, "MEDIA_NOT_FOUND", "No such media file"),
  mediaUrlExpired: () =>
    new ApiError(403, "MEDIA_URL_EXPIRED", "This media URL has expired; get a fresh one from the API"),
  mediaUrlInvalid: () => new ApiError(403, "MEDIA_URL_INVALID", "This media URL's signature is not valid"),
  rangeNotSatisfiable: () => new ApiError(416, "RANGE_NOT_SATISFIABLE", "Requested range not satisfiable"),
  unauthorized: (message = "Sign in or send a valid token") => new ApiError(401, "UNAUTHORIZED", message),
  forbidden: (message = "Not allowed") => new ApiError(403, "FORBIDDEN", message),
  csrf: () => new ApiError(403, "CSRF_REJECTED", "Cross-site request refused: the Origin is not trusted"),
  invalidCallbackUrl: (field: string) =>
    new ApiError(403, "INVALID_CALLBACK_URL", `${field} must be a path on this server or a URL on a trusted origin`),
  sessionRequired: (message: string) => new ApiError(403, "SESSION_REQUIRED", message),
  rateLimited: (retryAfterSeconds: number) =>
    new ApiError(429, "RATE_LIMITED", `Too many requests; try again in ${retryAfterSeconds} s`),
  uploadTokenTooLarge: (max: number) =>
    new ApiError(413, "UPLOAD_TOO_LARGE", `This upload token allows uploads of at most ${max} bytes`),
  uploadTokenUsed: () =>
    new ApiError(409, "UPLOAD_TOKEN_USED", "This upload token has already created its upload; mint a new one"),
  uploadTokenMismatch: () =>
    new ApiError(
      403,
      "UPLOAD_TOKEN_MISMATCH",
      "This upload was created with another upload token: resume it with the token that created it",
    ),
  uploadTokenExpired: () =>
    new ApiError(401, "UPLOAD_TOKEN_EXPIRED", "This upload token has expired; its upload cannot be created or resumed"),
  uploadTypeNotAllowed: (declared: string | null, allowed: string[]) =>
    new ApiError(
      415,
      "UPLOAD_TYPE_NOT_ALLOWED",
      `${declared ? `Content type ${declared} is` : "An upload without a declared content type (filetype metadata) is"} not allowed by this upload token (allowed: ${allowed.join(", ")})`,
    ),
  apiKeyScope: () =>
    new ApiError(403, "API_KEY_SCOPE", 'This API key\'s scope is "upload": it only mints upload tokens'),
  uploadLimitReached: (max: number) =>
    new ApiError(429, "UPLOAD_LIMIT_REACHED", `At most ${max} unfinished uploads at once; finish or cancel one first`),
  webhookUrlRefused: (reason: string) =>
    new ApiError(400, "WEBHOOK_URL_REFUSED", `This webhook URL is refused: ${reason}`),
  webhookDisabled: () =>
    new ApiError(
      409,
      "WEBHOOK_DISABLED",
      "This endpoint is disabled: enable it (PATCH enabled: true) before redelivering",
    ),
  databaseUnavailable: () =>
    new ApiError(
      503,
      "DATABASE_UNAVAILABLE",
      "The database is unavailable for a moment; try again shortly",
      DATABASE_RETRY_AFTER_SECONDS,
    ),
  channelNotFound: (handle: string) => new ApiError(404, "CHANNEL_NOT_FOUND", `No channel @${handle}`),
  handleTaken: (handle: string) => new ApiError(409, "HANDLE_TAKEN", `The handle ${handle} is taken; choose another`),
  invalidImage: (message: string) => new ApiError(400, "INVALID_IMAGE", message),
  captionsInvalid: (message: string) => new ApiError(400, "CAPTIONS_INVALID", message),
  chaptersInvalid: (message: string) => new ApiError(400, "CHAPTERS_INVALID", message),
  videoNotReady: (message: string) => new ApiError(409, "VIDEO_NOT_READY", message),
  internal: () => new ApiError(500, "INTERNAL", "Internal server error"),
};

export function errorBody(code: string, message: string) {
  return { error: { code, message } };
}

/** Largest JSON request body (Fastify's default). */
export const BODY_LIMIT = 1024 * 1024;

/** Maps Fastify's own client errors (bad JSON, content type, body size…) into the catalogue. */
function fromFastifyError(fe: FastifyError, status: number): ApiError {
  switch (fe.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return errors.bodyTooLarge(BODY_LIMIT);
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return errors.unsupportedMediaType(fe.message);
  }
  if (status === 404) return errors.notFound(fe.message);
  if (status === 413) return errors.bodyTooLarge(BODY_LIMIT);
  if (status === 415) return errors.unsupportedMediaType(fe.message);
  return new ApiError(status, "VALIDATION_FAILED", fe.message);
}

/**
 * Options for the Fastify constructor that keep framework-level failures in the one error
 * shape: malformed URLs (`FST_ERR_BAD_URL`, raised before routing) and errors the HTTP parser
 * answers on the socket (431 headers too large, 400 malformed request, 408 timeout).
 */
export const errorShapeOptions = {
  frameworkErrors: (err: FastifyError, _request: FastifyRequest, reply: FastifyReply) => {
    const status = typeof err.statusCode === "number" && err.statusCode < 500 ? err.statusCode : 400;
    const code: ErrorCode = err.code === "FST_ERR_BAD_URL" ? "INVALID_URL" : "VALIDATION_FAILED";
    reply.status(status).send(errorBody(code, err.message));
  },
  clientErrorHandler: (err: NodeJS.ErrnoException, socket: Socket) => {
    if (err.code === "ECONNRESET" || socket.destroyed) return;
    const [status, code, message] =
      err.code === "HPE_HEADER_OVERFLOW"
        ? [431, "HEADERS_TOO_LARGE", "The request headers are too large"]
        : err.code === "ERR_HTTP_REQUEST_TIMEOUT"
          ? [408, "REQUEST_TIMEOUT", "The request took too long to arrive"]
          : [400, "MALFORMED_REQUEST", "The request is not valid HTTP"];
    const body = JSON.stringify(errorBody(code, message));
    if (socket.writable) {
      socket.write(
        `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
    }
    socket.destroy(err);
  },
};

// Routes whose path is only a wildcard (the demo site's fallback, the CORS preflight route)
// match every URL; they say nothing about which methods a resource has.
const CATCH_ALL = new Set(["*", "/*"]);

/** Installs the one root error handler and the 404/405 handler. */
export function registerErrorHandlers(app: FastifyInstance): void {
  // Every route's method, to answer an undeclared method with 405 and `Allow` instead of 404.
  const routes = FindMyWay();
  const noop = () => undefined;
  app.addHook("onRoute", (route) => {
    if (CATCH_ALL.has(route.url)) return;
    const methods = (Array.isArray(route.method) ? route.method : [route.method]) as FindMyWay.HTTPMethod[];
    for (const method of methods) {
      if (!routes.hasRoute(method, route.url)) routes.on(method, route.url, noop);
    }
  });

  const notFound = (request: FastifyRequest, reply: FastifyReply) => {
    const path = request.url.split("?")[0] ?? "/";
    // A route of this method that passed the request on (reply.callNotFound) is a plain 404.
    const allowed =
      request.method === "OPTIONS" || routes.find(request.method as FindMyWay.HTTPMethod, path) !== null
        ? []
        : allowedMethods(routes, path);
    if (allowed.length > 0) {
      const err = errors.methodNotAllowed(request.method, path);
      return reply.status(405).header("allow", allowed.join(", ")).send(errorBody(err.code, err.message));
    }
    return reply.status(404).send(errorBody("NOT_FOUND", `Route ${request.method} ${path} not found`));
  };

  app.setErrorHandler((err: FastifyError | ApiError, request, reply) => {
    // Body parsing failed on the way to the 404 handler (an unknown method with a body, such
    // as QUERY): the missing route or method is the answer, not the body.
    if (request.is404) return notFound(request, reply);
    if (err instanceof ApiError) {
      if (err.retryAfterSeconds !== undefined) reply.header("retry-after", String(err.retryAfterSeconds));
      // A HEAD (tus resuming an upload) gets no body: the code travels in a header too.
      reply.header(ERROR_CODE_HEADER, err.code);
      return reply.status(err.statusCode).send(errorBody(err.code, err.message));
    }
    const fe = err as FastifyError;
    if (fe.validation) {
      return reply.status(400).send(errorBody("VALIDATION_FAILED", fe.message));
    }
    const status = typeof fe.statusCode === "number" ? fe.statusCode : 500;
    if (status >= 500 && isDatabaseUnreachable(err)) {
      // Down or restarting (embedded or DATABASE_URL): a retry later may well succeed.
      request.log.warn({ err: { message: fe.message, code: fe.code } }, "database unavailable");
      const unavailable = errors.databaseUnavailable();
      reply.header("retry-after", String(unavailable.retryAfterSeconds));
      return reply.status(503).send(errorBody(unavailable.code, unavailable.message));
    }
    if (status >= 500) {
      request.log.error({ err }, "request failed");
      return reply.status(500).send(errorBody("INTERNAL", "Internal server error"));
    }
    const mapped = fromFastifyError(fe, status);
    return reply.status(mapped.statusCode).send(errorBody(mapped.code, mapped.message));
  });
  app.setNotFoundHandler(notFound);
}

const METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"] as const;

function allowedMethods(routes: FindMyWay.Instance<FindMyWay.HTTPVersion.V1>, path: string): string[] {
  // OPTIONS is answered for every path (CORS preflight, tus discovery) and needs no mention.
  return METHODS.filter((m) => routes.find(m, path) !== null);
}
