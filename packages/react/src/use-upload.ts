import {
  type TranscodePhase,
  type UploadHandle,
  type UploadProgress,
  type UploadSource,
  type UploadTokenSource,
  uploadVideo,
  type Visibility,
  watchVideo,
} from "@reelkit/sdk";
import { useCallback, useEffect, useRef, useState } from "react";
import { useReelkitClient } from "./context.js";

/** `error`: the upload failed (Retry may help); `failed`: the server could not process the video. */
export type UploadPhase = "idle" | "uploading" | "paused" | "error" | "processing" | "failed" | "done";

export interface UploadState {
  phase: UploadPhase;
  progress: UploadProgress | null;
  /** Transcode progress 0..100 while processing. */
  processingProgress: number;
  /**
   * The server's transcode phase while processing (`Video.phase`): `ladder` means the video
   * already plays and more qualities are coming; null before the server says.
   */
  transcodePhase: TranscodePhase | null;
  /** While it waits for a transcoder (`transcodePhase` `queued`): its place in line, 1 being next. */
  queuePosition: number | null;
  /** Known from the moment the server created the upload (see `onCreated`), not only once sent. */
  videoId: string | null;
  error: Error | null;
}

export interface StartUploadOptions {
  title?: string;
  description?: string;
  /** Chosen at upload: sent with the upload (session uploads) and to `getToken` (token uploads). */
  visibility?: Visibility;
  tags?: string[];
}

/** What `getToken` is told about the upload it mints a token for. */
export interface UploadTokenRequest extends StartUploadOptions {
  file: UploadSource;
}

export interface UseUploadOptions {
  /** Injected uploader; defaults to the sdk's tus `uploadVideo`. */
  upload?: typeof uploadVideo;
  pollIntervalMs?: number;
  /**
   * Called once per upload with the video's id as soon as the server created the upload, before
   * the bytes are sent (or, for an upload resumed after a reload, once the server confirmed it):
   * keep the id here to find an upload that is abandoned halfway.
   */
  onCreated?: (videoId: string) => void;
  /**
   * The upload token for one upload (your backend mints it with its API key): asked once per
   * upload, and not at all for an upload resumed after a reload with its own unexpired token.
   * The provider's client and its own token getter are used when absent.
   */
  getToken?: (request: UploadTokenRequest) => UploadTokenSource | Promise<UploadTokenSource>;
  /** Upload progress of the current upload (bytes, percent, speed, ETA). */
  onProgress?: (progress: UploadProgress) => void;
}

const initial: UploadState = {
  phase: "idle",
  progress: null,
  processingProgress: 0,
  transcodePhase: null,
  queuePosition: null,
  videoId: null,
  error: null,
};
const toError = (e: unknown) => (e instanceof Error ? e : new Error(String(e)));

/** Upload state machine: idle → uploading ⇄ paused → processing → done, with error and retry. */
export function useUpload(options: UseUploadOptions = {}) {
  const client = useReelkitClient();
  const [state, setState] = useState<UploadState>(initial);
  const handle = useRef<UploadHandle | null>(null);
  const run = useRef<AbortController | null>(null);
  const last = useRef<{ file: UploadSource; opts: StartUploadOptions } | null>(null);
  const upload = options.upload ?? uploadVideo;
  const { pollIntervalMs } = options;
  const getToken = useRef(options.getToken);
  useEffect(() => {
    getToken.current = options.getToken;
  }, [options.getToken]);
  // The latest callback, without restarting `start` whenever the caller passes a new function.
  const onCreated = useRef(options.onCreated);
  useEffect(() => {
    onCreated.current = options.onCreated;
  }, [options.onCreated]);
  const onProgress = useRef(options.onProgress);
  useEffect(() => {
    onProgress.current = options.onProgress;
  }, [options.onProgress]);

  useEffect(() => () => run.current?.abort(), []);

  const start = useCallback(
    async (file: UploadSource, opts: StartUploadOptions = {}) => {
      run.current?.abort();
      const controller = new AbortController();
      run.current = controller;
      const { signal } = controller;
      last.current = { file, opts };
      setState({ ...initial, phase: "uploading" });
      try {
        const h = upload(client, file, {
          ...opts,
          signal,
          ...(getToken.current ? { getToken: () => getToken.current?.({ file, ...opts }) } : {}),
          onCreated: (videoId) => {
            if (signal.aborted) return;
            setState((s) => ({ ...s, videoId }));
            onCreated.current?.(videoId);
          },
          onProgress: (progress) => {
            if (signal.aborted) return;
            setState((s) => ({ ...s, progress }));
            onProgress.current?.(progress);
          },
        });
        handle.current = h;
        const { videoId } = await h.done;
        if (signal.aborted) return;
        setState((s) => ({ ...s, phase: "processing", videoId }));
        let final: Awaited<ReturnType<typeof watchVideo>["done"]>;
        try {
          final = await watchVideo(
            client,
            videoId,
            (event) => {
              if (signal.aborted) return;
              setState((s) => ({
                ...s,
                processingProgress: event.progress,
                transcodePhase: event.phase ?? null,
                queuePosition: event.queuePosition ?? null,
              }));
            },
            { signal, pollIntervalMs },
          ).done;
        } catch (e) {
          // Every byte is on the server: losing track of processing is no upload failure.
          if (!signal.aborted) setState((s) => ({ ...s, phase: "failed", error: toError(e) }));
          return;
        }
        if (signal.aborted) return;
        if (final.status === "FAILED") {
          setState((s) => ({ ...s, phase: "failed", error: new Error(final.failureReason ?? "Processing failed") }));
          return;
        }
        setState((s) => ({ ...s, phase: "done", processingProgress: 100 }));
      } catch (e) {
        if (!signal.aborted) setState((s) => ({ ...s, phase: "error", error: toError(e) }));
      }
    },
    [client, upload, pollIntervalMs],
  );
  const pause = useCallback(async () => {
    // Paused at once: no speed or time left is shown for bytes that are not moving.
    setState((s) =>
      s.phase === "uploading"
        ? { ...s, phase: "paused", progress: s.progress && { ...s.progress, speedBps: 0, etaSeconds: null } }
        : s,
    );
    await handle.current?.pause();
  }, []);
  const resume = useCallback(() => {
    handle.current?.resume();
    setState((s) => (s.phase === "paused" ? { ...s, phase: "uploading" } : s));
  }, []);
  const cancel = useCallback(() => {
    run.current?.abort();
    handle.current = null;
    setState(initial);
  }, []);
  const retry = useCallback(() => {
    if (last.current) void start(last.current.file, last.current.opts);
  }, [start]);

  return { ...state, start, pause, resume, cancel, retry };
}
