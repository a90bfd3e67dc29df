import { type Video, watchVideo } from "@reelkit/sdk";
import { useEffect, useState } from "react";
import { useReelkitClient } from "./context.js";

export interface UseVideoOptions {
  /** Polling interval when the status stream is unavailable, in ms. */
  pollIntervalMs?: number;
}

export interface UseVideoResult {
  video: Video | null;
  error: Error | null;
  loading: boolean;
}

const isTerminal = (status: Video["status"]) => status === "READY" || status === "FAILED";

/** Loads a video and follows its processing status until READY or FAILED. */
export function useVideo(id: string | null | undefined, options: UseVideoOptions = {}): UseVideoResult {
  const client = useReelkitClient();
  const [state, setState] = useState<UseVideoResult>({ video: null, error: null, loading: Boolean(id) });
  const { pollIntervalMs } = options;

  useEffect(() => {
    if (!id) {
      setState({ video: null, error: null, loading: false });
      return;
    }
    const controller = new AbortController();
    const { signal } = controller;
    setState({ video: null, error: null, loading: true });
    const fail = (error: unknown) => {
      if (signal.aborted) return;
      setState((s) => ({ ...s, error: error instanceof Error ? error : new Error(String(error)), loading: false }));
    };
    (async () => {
      const video = await client.get(id, { signal });
      if (signal.aborted) return;
      setState({ video, error: null, loading: false });
      if (isTerminal(video.status)) return;
      const handle = watchVideo(
        client,
        id,
        (event) => {
          if (signal.aborted) return;
          setState((s) =>
            s.video
              ? {
                  ...s,
                  video: {
                    ...s.video,
                    status: event.status,
                    progress: event.progress,
                    failureReason: event.failureReason,
                  },
                }
              : s,
          );
        },
        { signal, pollIntervalMs },
      );
      await handle.done;
      // The status events carry no playback URLs; read the finished video once.
      const final = await client.get(id, { signal });
      if (!signal.aborted) setState({ video: final, error: null, loading: false });
    })().catch(fail);
    return () => controller.abort();
  }, [client, id, pollIntervalMs]);

  return state;
}
