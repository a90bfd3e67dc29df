/**
 * Follow a video's processing status: the server's SSE stream (`/api/videos/:id/events`, event
 * `status`) read through fetch, so it carries the bearer token and works in Node and browsers;
 * polling `get()` where streaming is unavailable or the stream breaks.
 */
import type { ReelkitClient } from "./client.js";
import type { VideoStatusEvent } from "./contract.js";

export interface WatchOptions {
  signal?: AbortSignal;
  /** Polling interval when SSE is unavailable, in ms. */
  pollIntervalMs?: number;
  /** Force polling (e.g. behind proxies that buffer event streams). */
  transport?: "auto" | "poll";
}

export interface WatchHandle {
  /** Resolves with the final event (READY or FAILED); rejects on abort or a fatal error. */
  readonly done: Promise<VideoStatusEvent>;
  stop(): void;
}

const isTerminal = (event: VideoStatusEvent) => event.status === "READY" || event.status === "FAILED";

export function watchVideo(
  client: ReelkitClient,
  id: string,
  onEvent: (event: VideoStatusEvent) => void,
  options: WatchOptions = {},
): WatchHandle {
  const controller = new AbortController();
  const stopWith = () => controller.abort();
  if (options.signal?.aborted) controller.abort();
  options.signal?.addEventListener("abort", stopWith, { once: true });
  const signal = controller.signal;

  const done = (async () => {
    try {
      if (options.transport !== "poll") {
        const final = await followStream(client, id, onEvent, signal);
        if (final) return final;
      }
      return await poll(client, id, onEvent, signal, options.pollIntervalMs ?? 2_000);
    } finally {
      options.signal?.removeEventListener("abort", stopWith);
    }
  })();
  done.catch(() => undefined);
  return { done, stop: stopWith };
}

/** Reads the SSE stream; returns the terminal event, or null when the caller should poll. */
async function followStream(
  client: ReelkitClient,
  id: string,
  onEvent: (event: VideoStatusEvent) => void,
  signal: AbortSignal,
): Promise<VideoStatusEvent | null> {
  let response: Response;
  try {
    response = await client.fetch(client.url(`/api/videos/${encodeURIComponent(id)}/events`), {
      headers: { accept: "text/event-stream", ...(await client.authHeaders()) },
      signal,
    });
  } catch (error) {
    if (signal.aborted) throw abortError();
    void error;
    return null;
  }
  const type = response.headers.get("content-type") ?? "";
  if (!response.ok || !response.body || !type.includes("text/event-stream")) {
    await response.body?.cancel().catch(() => undefined);
    return null;
  }
  const parser = createSseParser();
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return null;
      for (const message of parser.push(value)) {
        if (message.event !== "status") continue;
        const event = JSON.parse(message.data) as VideoStatusEvent;
        onEvent(event);
        if (isTerminal(event)) return event;
      }
    }
  } catch (error) {
    if (signal.aborted) throw abortError();
    void error;
    return null;
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

async function poll(
  client: ReelkitClient,
  id: string,
  onEvent: (event: VideoStatusEvent) => void,
  signal: AbortSignal,
  intervalMs: number,
): Promise<VideoStatusEvent> {
  let last = "";
  for (;;) {
    if (signal.aborted) throw abortError();
    const video = await client.get(id, { signal }).catch((error: unknown) => {
      throw signal.aborted ? abortError() : error;
    });
    const event: VideoStatusEvent = {
      videoId: video.id,
      status: video.status,
      progress: video.progress,
      failureReason: video.failureReason,
      playable: video.playable,
      ...(video.phase !== undefined && { phase: video.phase }),
      ...(video.queuePosition !== undefined && { queuePosition: video.queuePosition }),
    };
    const key = `${event.status}:${event.progress}:${event.playable}:${event.phase}:${event.queuePosition}`;
    if (key !== last) onEvent(event);
    last = key;
    if (isTerminal(event)) return event;
    await sleep(intervalMs, signal);
  }
}

export interface SseMessage {
  event: string;
  data: string;
  id?: string;
}

/** Incremental parser for the text/event-stream format (WHATWG HTML §9.2). */
export function createSseParser() {
  let buffer = "";
  let event = "";
  let data: string[] = [];
  let id: string | undefined;
  return {
    push(chunk: string): SseMessage[] {
      buffer += chunk;
      const out: SseMessage[] = [];
      const lines = buffer.split(/\r\n|\r|\n/);
      buffer = lines.pop() ?? "";
      for (const line of lines) {
        if (line === "") {
          if (data.length > 0) out.push({ event: event || "message", data: data.join("\n"), id });
          event = "";
          data = [];
          continue;
        }
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon === -1 ? line : line.slice(0, colon);
        let value = colon === -1 ? "" : line.slice(colon + 1);
        if (value.startsWith(" ")) value = value.slice(1);
        if (field === "event") event = value;
        else if (field === "data") data.push(value);
        else if (field === "id") id = value;
      }
      return out;
    },
  };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError());
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

function abortError(): Error {
  const error = new Error("Watch aborted");
  error.name = "AbortError";
  return error;
}
