/**
 * Resumable uploads over tus 1.0 (tus-js-client). Works with a browser File/Blob and, in Node,
 * with a file path, a ReadStream or a Buffer.
 */
import type { DetailedError, Upload, UploadOptions } from "tus-js-client";
import type { ReelkitClient } from "./client.js";
import type { Visibility } from "./contract.js";
import { ERROR_CODE_HEADER, UPLOADS_PATH, VIDEO_ID_HEADER } from "./contract-constants.js";
import { ReelkitApiError } from "./errors.js";
import { prepareSource } from "./upload-source.js";
import { isBlob, type UploadSource } from "./upload-source-types.js";

export type { NodeReadableLike, UploadSource } from "./upload-source-types.js";

export const MIB = 1024 * 1024;
/** S3 multipart: parts (except the last) are at least 5 MiB, and at most 10,000 of them. */
export const MIN_CHUNK_SIZE = 5 * MIB;
export const MAX_PARTS = 10_000;
export const DEFAULT_CHUNK_SIZE = 8 * MIB;
export const DEFAULT_RETRY_DELAYS = [0, 1_000, 3_000, 5_000, 10_000, 20_000];

export interface UploadProgress {
  bytesSent: number;
  bytesTotal: number;
  /** 0..100 */
  percent: number;
  /** Bytes per second over the last few seconds; 0 until measurable. */
  speedBps: number;
  /** Seconds left at the current speed; null until the speed is known. */
  etaSeconds: number | null;
}

export interface UploadVideoOptions {
  title?: string;
  description?: string;
  /** The video's visibility (the server's default when absent); an upload token's own setting wins. */
  visibility?: Visibility;
  /** The video's tags; an upload token's own tags win. */
  tags?: string[];
  onProgress?: (progress: UploadProgress) => void;
  /**
   * Called once with the video's id as soon as the server has created the upload (from the
   * creation response's `Reelkit-Video-Id` header), before any byte is sent; for an upload resumed
   * after a page reload, with the id remembered for it, once the server confirmed it still has
   * the upload. Lets a caller keep the id even when the upload is abandoned halfway.
   */
  onCreated?: (videoId: string) => void;
  /**
   * Aborting terminates the upload on the server and rejects the handle's promise. Once `done`
   * has settled the signal is no longer listened to: aborting then changes nothing.
   */
  signal?: AbortSignal;
  /** Requested chunk size; raised when needed to stay within S3's limits. */
  chunkSize?: number;
  /** Delays between retries of a failed request, in ms. */
  retryDelays?: number[];
  /** Size in bytes; only needed for a Node stream that is not a file stream. */
  size?: number;
  /**
   * The upload token (`rkut_…`) for this upload, which your backend mints with its API key
   * (`POST /api/upload-tokens`): asked once, before the upload starts, and used for every
   * request of that upload. An upload resumed after a page reload uses the token that created
   * it (kept with the upload's URL) and does not ask again while that token is unexpired.
   * Return the token, or the whole `UploadToken` your backend got (its `expiresAt` lets a
   * resumed upload skip a token that has expired). The client's own `getToken` when absent.
   * When it throws, the upload fails at once with that error.
   */
  getToken?: () => UploadTokenSource | Promise<UploadTokenSource>;
  /** The file's content type, sent as `filetype` metadata; a File's own `type` when absent. */
  filetype?: string;
}

/** What `getToken` may return: the token, or the `UploadToken` response (at least its token). */
export type UploadTokenSource = string | { token: string; expiresAt?: string } | null | undefined;

/** An upload error without a response from the server (offline, DNS, CORS, connection reset). */
export const NETWORK_ERROR = "NETWORK_ERROR";

export interface UploadResult {
  videoId: string;
  uploadUrl: string;
}

export interface UploadHandle {
  /** Settles when the upload finished (or failed / was aborted). */
  readonly done: Promise<UploadResult>;
  pause(): Promise<void>;
  resume(): void;
  /** Terminates the upload on the server; a no-op once `done` has settled. */
  abort(): Promise<void>;
}

/**
 * Chunk size for an upload of `size` bytes: at least 5 MiB and large enough that the upload
 * needs no more than 10,000 parts.
 */
export function chooseChunkSize(size: number, requested = DEFAULT_CHUNK_SIZE): number {
  const needed = Math.ceil(size / MAX_PARTS);
  return Math.max(MIN_CHUNK_SIZE, requested, needed);
}

/** Speed over a sliding window of samples, so a stalled network shows up quickly. */
export function createSpeedMeter(windowMs = 5_000, now: () => number = Date.now) {
  const samples: { t: number; bytes: number }[] = [];
  return {
    sample(bytes: number): number {
      const t = now();
      samples.push({ t, bytes });
      while (samples.length > 2 && (samples[0]?.t ?? t) < t - windowMs) samples.shift();
      const first = samples[0];
      if (!first || t - first.t < 200) return 0;
      return Math.max(0, ((bytes - first.bytes) * 1000) / (t - first.t));
    },
    reset(): void {
      samples.length = 0;
    },
  };
}

export function uploadVideo(
  target: ReelkitClient | string,
  file: UploadSource,
  options: UploadVideoOptions = {},
): UploadHandle {
  const endpoint =
    typeof target === "string" ? `${target.replace(/\/+$/, "")}${UPLOADS_PATH}` : target.url(UPLOADS_PATH);
  // With a per-upload token, this upload's one token (asked once); else the client's, per request.
  let uploadToken: StoredToken | null = null;
  const authHeaders = async (): Promise<Record<string, string>> => {
    if (options.getToken) return uploadToken ? { authorization: `Bearer ${uploadToken.token}` } : {};
    return typeof target === "string" ? {} : target.authHeaders();
  };
  // A resumed token upload the server refused (another token, expired, gone): never recreated
  // silently from byte 0, which would leave the old video behind and spend a token.
  let resumedUrl: string | null = null;
  let resumeRefused: ReelkitApiError | null = null;

  let upload: Upload | undefined;
  let aborted = false;
  let settled = false;
  const meter = createSpeedMeter();
  let videoId: string | null = null;
  let announced = false;
  const announce = (id: string) => {
    if (announced) return;
    announced = true;
    options.onCreated?.(id);
  };

  let resolvePromise!: (r: UploadResult) => void;
  let rejectPromise!: (e: unknown) => void;
  const done = new Promise<UploadResult>((resolve, reject) => {
    resolvePromise = resolve;
    rejectPromise = reject;
  });
  // Callers may only await `done` later; avoid an unhandled rejection in between.
  done.catch(() => undefined);
  // Marked synchronously, so that an abort in the same tick as the last response cannot slip in.
  const settle = () => {
    settled = true;
    options.signal?.removeEventListener("abort", onAbort);
  };
  const resolveDone = (result: UploadResult) => {
    settle();
    resolvePromise(result);
  };
  const rejectDone = (error: unknown) => {
    settle();
    rejectPromise(error);
  };

  const ready = (async () => {
    const { input, size } = await prepareSource(file, options.size);
    const chunkSize = chooseChunkSize(size, options.chunkSize);
    const metadata: Record<string, string> = { filename: sourceName(file) };
    const filetype = options.filetype ?? (isBlob(file) ? file.type : "");
    if (filetype) metadata.filetype = filetype;
    if (options.title !== undefined) metadata.title = options.title;
    if (options.description !== undefined) metadata.description = options.description;
    if (options.visibility !== undefined) metadata.visibility = options.visibility;
    if (options.tags && options.tags.length > 0) metadata.tags = options.tags.join(",");

    const tusOptions: UploadOptions = {
      endpoint,
      metadata,
      chunkSize,
      uploadSize: size,
      retryDelays: options.retryDelays ?? DEFAULT_RETRY_DELAYS,
      // Resume after a page reload: tus-js-client keeps upload URLs by fingerprint in localStorage.
      storeFingerprintForResuming: true,
      removeFingerprintOnSuccess: true,
      onBeforeRequest: async (req) => {
        if (resumeRefused && req.getMethod() === "POST") throw resumeRefused;
        for (const [name, value] of Object.entries(await authHeaders())) req.setHeader(name, value);
      },
      onShouldRetry: (err, attempt, opts) => shouldRetry(err, attempt, opts.retryDelays?.length ?? 0),
      onAfterResponse: (req, res) => {
        if (options.getToken && req.getMethod() === "HEAD" && req.getURL() === resumedUrl) {
          const status = res.getStatus();
          if (status >= 400 && status !== 423) {
            const code = res.getHeader(ERROR_CODE_HEADER) ?? (status === 404 || status === 410 ? "UPLOAD_GONE" : null);
            resumeRefused = new ReelkitApiError({
              status,
              code: code ?? "HTTP_ERROR",
              message: resumeMessage(code, status),
            });
          }
        }
        // Only a successful creation names the video: a refused one may carry an id that was
        // never stored, and a fresh creation (the resumed upload was gone) replaces the old id.
        if (req.getMethod() !== "POST") return;
        const status = res.getStatus();
        videoId =
          status >= 200 && status < 300
            ? (res.getHeader(VIDEO_ID_HEADER) ?? res.getHeader(VIDEO_ID_HEADER.toLowerCase()) ?? null)
            : null;
      },
      // After a creation, or after the server confirmed a resumed upload (HEAD): the id is real.
      onUploadUrlAvailable: () => {
        if (uploadToken) rememberToken(upload?.url, uploadToken);
        if (!videoId) return;
        rememberVideoId(upload?.url, videoId);
        announce(videoId);
      },
      onProgress: (bytesSent, bytesTotal) => {
        const speedBps = meter.sample(bytesSent);
        options.onProgress?.({
          bytesSent,
          bytesTotal,
          percent: bytesTotal > 0 ? (bytesSent / bytesTotal) * 100 : 0,
          speedBps,
          etaSeconds: speedBps > 0 ? (bytesTotal - bytesSent) / speedBps : null,
        });
      },
      onSuccess: () => {
        const uploadUrl = upload?.url ?? "";
        const id = videoId ?? recallVideoId(uploadUrl);
        forgetVideoId(uploadUrl);
        forgetToken(uploadUrl);
        if (id) resolveDone({ videoId: id, uploadUrl });
        else rejectDone(new Error(`Upload finished but the server sent no ${VIDEO_ID_HEADER} header`));
      },
      onError: (error) => {
        // The refused upload cannot be resumed by anyone now: start afresh next time.
        if (resumeRefused && upload?.url) {
          forgetVideoId(upload.url);
          forgetToken(upload.url);
        }
        rejectDone(toUploadError(error));
      },
    };
    // Loaded with the first upload: a page that only plays never downloads the tus client.
    const tus = await import("tus-js-client");
    upload = new tus.Upload(input as ConstructorParameters<typeof Upload>[0], tusOptions);
    const previous = await upload.findPreviousUploads().catch(() => []);
    let last = previous[0];
    // Cancelled while preparing (a component unmounted at once): no token is spent on it.
    if (aborted) return;
    if (options.getToken) {
      // Only an upload whose own token is kept (and unexpired) can be resumed; the others are
      // dropped, as nothing can continue them (the server expires them).
      last = previous.find((p) => usableToken(p.uploadUrl) !== null);
      for (const p of previous) {
        if (p === last) continue;
        forgetToken(p.uploadUrl);
        forgetVideoId(p.uploadUrl);
        await upload.options.urlStorage?.removeUpload(p.urlStorageKey).catch(() => undefined);
      }
      uploadToken = last ? usableToken(last.uploadUrl) : await askToken(options.getToken);
    }
    if (last) {
      upload.resumeFromPreviousUpload(last);
      resumedUrl = last.uploadUrl;
      videoId = recallVideoId(last.uploadUrl ?? undefined);
    }
    if (!aborted) upload.start();
  })();
  ready.catch((error: unknown) => rejectDone(error));

  async function abort(): Promise<void> {
    // A finished upload has nothing left to cancel; terminating it would delete it on the server.
    if (aborted || settled) return;
    aborted = true;
    await ready.catch(() => undefined);
    if (settled) return;
    await upload?.abort(true).catch(() => undefined);
    rejectDone(abortError());
  }
  function onAbort(): void {
    void abort();
  }
  if (options.signal?.aborted) void abort();
  else options.signal?.addEventListener("abort", onAbort, { once: true });

  return {
    done,
    pause: async () => {
      await ready;
      meter.reset();
      await upload?.abort(false);
    },
    resume: () => {
      if (aborted) return;
      void ready.then(() => upload?.start());
    },
    abort,
  };
}

async function askToken(getToken: () => UploadTokenSource | Promise<UploadTokenSource>): Promise<StoredToken | null> {
  const got = await getToken();
  if (!got) return null;
  return typeof got === "string" ? { token: got } : { token: got.token, expiresAt: got.expiresAt };
}

function resumeMessage(code: string | null, status: number): string {
  switch (code) {
    case "UPLOAD_TOKEN_MISMATCH":
      return "This upload was started with another upload token and cannot be resumed with this one";
    case "UPLOAD_TOKEN_EXPIRED":
      return "The upload token of this upload has expired: it cannot be resumed";
    case "UPLOAD_GONE":
    case "UPLOAD_NOT_FOUND":
      return "This upload no longer exists on the server (expired or cancelled)";
    default:
      return `The server refused to resume this upload (HTTP ${status})`;
  }
}

/** Codes that no retry can change. */
const FINAL_CODES = new Set([
  "UPLOAD_TOKEN_MISMATCH",
  "UPLOAD_TOKEN_EXPIRED",
  "UPLOAD_TOKEN_USED",
  "UPLOAD_TOO_LARGE",
  "UPLOAD_TYPE_NOT_ALLOWED",
  "UPLOAD_LIMIT_REACHED",
  "UNAUTHORIZED",
  "FORBIDDEN",
  "UPLOAD_GONE",
]);

/** tus's retry rule (not on a 4xx but 409 and 423), and never for a refusal the SDK made itself. */
function shouldRetry(err: Error | DetailedError, attempt: number, maxAttempts: number): boolean {
  if (attempt >= maxAttempts) return false;
  const detailed = err as DetailedError;
  if (detailed.causingError instanceof ReelkitApiError) return false;
  const res = detailed.originalResponse;
  if (!res) return typeof navigator === "undefined" || navigator.onLine !== false;
  if (FINAL_CODES.has(res.getHeader(ERROR_CODE_HEADER) ?? "")) return false;
  const status = res.getStatus();
  return status < 400 || status >= 500 || status === 409 || status === 423;
}

/**
 * A failed upload as a `ReelkitApiError` with the API's code and message (from the response's
 * JSON body, else its `Reelkit-Error-Code` header); without a response, code NETWORK_ERROR.
 */
export function toUploadError(error: unknown): Error {
  if (error instanceof ReelkitApiError) return error;
  const detailed = error as Partial<DetailedError>;
  if (detailed.causingError instanceof ReelkitApiError) return detailed.causingError;
  const res = detailed.originalResponse;
  if (res) {
    const status = res.getStatus();
    let code = res.getHeader(ERROR_CODE_HEADER) ?? null;
    let message: string | null = null;
    try {
      const body = JSON.parse(res.getBody() || "null") as { error?: { code?: unknown; message?: unknown } } | null;
      if (typeof body?.error?.code === "string") code = body.error.code;
      if (typeof body?.error?.message === "string") message = body.error.message;
    } catch {
      // not JSON (a proxy's page)
    }
    return new ReelkitApiError({
      status,
      code: code ?? "HTTP_ERROR",
      message: message ?? (code ? resumeMessage(code, status) : `Upload request failed (HTTP ${status})`),
    });
  }
  if (detailed.originalRequest) {
    return new ReelkitApiError({
      status: 0,
      code: NETWORK_ERROR,
      message: "The server could not be reached (network error or a blocked cross-origin request)",
    });
  }
  return error instanceof Error ? error : new Error(String(error));
}

function abortError(): Error {
  const error = new Error("Upload aborted");
  error.name = "AbortError";
  return error;
}

function sourceName(file: UploadSource): string {
  if (typeof file === "string") return file.split(/[\\/]/).pop() ?? "upload";
  if (isBlob(file)) return "name" in file ? String(file.name) : "upload";
  if (!(file instanceof Uint8Array) && file.path) return String(file.path).split(/[\\/]/).pop() ?? "upload";
  return "upload";
}

// The creation response names the video; keep it next to the upload URL so that an upload
// resumed after a page reload still knows its video.
const STORAGE_PREFIX = "reelkit:video-id:";
function storage(): Storage | undefined {
  try {
    return typeof localStorage === "undefined" ? undefined : localStorage;
  } catch {
    return undefined;
  }
}
function rememberVideoId(uploadUrl: string | null | undefined, id: string): void {
  if (uploadUrl) storage()?.setItem(STORAGE_PREFIX + uploadUrl, id);
}
function recallVideoId(uploadUrl: string | null | undefined): string | null {
  return uploadUrl ? (storage()?.getItem(STORAGE_PREFIX + uploadUrl) ?? null) : null;
}
function forgetVideoId(uploadUrl: string | null | undefined): void {
  if (uploadUrl) storage()?.removeItem(STORAGE_PREFIX + uploadUrl);
}

// An upload created with an upload token is resumed with that token only: it is kept beside the
// upload URL (it grants nothing but this one upload, and only until it expires).
interface StoredToken {
  token: string;
  expiresAt?: string;
}
const TOKEN_PREFIX = "reelkit:upload-token:";
function rememberToken(uploadUrl: string | null | undefined, token: StoredToken): void {
  if (uploadUrl) storage()?.setItem(TOKEN_PREFIX + uploadUrl, JSON.stringify(token));
}
/** The kept token of an upload, unless it is missing or known to have expired. */
function usableToken(uploadUrl: string | null | undefined): StoredToken | null {
  if (!uploadUrl) return null;
  try {
    const stored = JSON.parse(storage()?.getItem(TOKEN_PREFIX + uploadUrl) ?? "null") as StoredToken | null;
    if (!stored || typeof stored.token !== "string") return null;
    if (stored.expiresAt && Date.parse(stored.expiresAt) <= Date.now()) return null;
    return stored;
  } catch {
    return null;
  }
}
function forgetToken(uploadUrl: string | null | undefined): void {
  if (uploadUrl) storage()?.removeItem(TOKEN_PREFIX + uploadUrl);
}
