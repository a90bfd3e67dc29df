/**
 * Resumable uploads over tus 1.0 (tus-js-client). Works with a browser File/Blob and, in Node,
 * with a file path, a ReadStream or a Buffer.
 */
import type { Upload, UploadOptions } from "tus-js-client";
import type { ReelkitClient } from "./client.js";
import { UPLOADS_PATH, VIDEO_ID_HEADER } from "./contract-constants.js";
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
   * The bearer token for this upload's requests, asked before each one: typically an upload
   * token (`rkut_…`) your backend minted with its API key. The client's own `getToken` when absent.
   */
  getToken?: () => string | null | undefined | Promise<string | null | undefined>;
}

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
  const authHeaders = async (): Promise<Record<string, string>> => {
    if (options.getToken) {
      const token = await options.getToken();
      return token ? { authorization: `Bearer ${token}` } : {};
    }
    return typeof target === "string" ? {} : target.authHeaders();
  };

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
    if (options.title !== undefined) metadata.title = options.title;
    if (options.description !== undefined) metadata.description = options.description;

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
        for (const [name, value] of Object.entries(await authHeaders())) req.setHeader(name, value);
      },
      onAfterResponse: (req, res) => {
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
        if (id) resolveDone({ videoId: id, uploadUrl });
        else rejectDone(new Error(`Upload finished but the server sent no ${VIDEO_ID_HEADER} header`));
      },
      onError: (error) => rejectDone(error),
    };
    // Loaded with the first upload: a page that only plays never downloads the tus client.
    const tus = await import("tus-js-client");
    upload = new tus.Upload(input as ConstructorParameters<typeof Upload>[0], tusOptions);
    const previous = await upload.findPreviousUploads().catch(() => []);
    const last = previous[0];
    if (last) {
      upload.resumeFromPreviousUpload(last);
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
function forgetVideoId(uploadUrl: string): void {
  storage()?.removeItem(STORAGE_PREFIX + uploadUrl);
}
