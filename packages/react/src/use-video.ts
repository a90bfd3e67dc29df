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

/**
 * The video as read again, keeping the playback URL it already had: a PRIVATE video's URL is
 * signed anew on every read, and a new URL would make the player load the video again from the
 * start in the middle of watching it (the master playlist behind both URLs is the same).
 */
function keepPlayback(before: Video | null, after: Video): Video {
  if (!before?.playbackUrl || !after.playbackUrl || before.id !== after.id) return after;
  return { ...after, playbackUrl: before.playbackUrl };
}

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
      // A video becomes playable while it is still processing: its playback URL and renditions
      // are read once then, as the status events do not carry them.
      let playableRead = video.playable;
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
                    ...(event.phase !== undefined && { phase: event.phase }),
                    ...(event.queuePosition !== undefined && { queuePosition: event.queuePosition }),
                  },
                }
              : s,
          );
          if (event.playable && !playableRead) {
            playableRead = true;
            client.get(id, { signal }).then((playable) => {
              if (signal.aborted) return;
              // Keep the newest status: the stream may have moved on while this was read.
              setState((s) => ({
                ...s,
                video: s.video
                  ? { ...keepPlayback(s.video, playable), status: s.video.status, progress: s.video.progress }
                  : playable,
              }));
            }, fail);
          }
        },
        { signal, pollIntervalMs },
      );
      await handle.done;
      // The status events carry no playback URLs; read the finished video once.
      const final = await client.get(id, { signal });
      if (!signal.aborted) setState((s) => ({ video: keepPlayback(s.video, final), error: null, loading: false }));
    })().catch(fail);
    return () => controller.abort();
  }, [client, id, pollIntervalMs]);

  return state;
}
