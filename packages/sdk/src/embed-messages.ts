/**
 * The `postMessage` protocol of the `/embed/:id` page. The page around the iframe sends
 * commands to `iframe.contentWindow`; the player accepts them from its parent, whatever its
 * origin, and posts events to `window.parent` only.
 */

/** `type` of a command sent to the embed page. */
export const EMBED_COMMAND = "reelkit:command";
/** `type` of an event the embed page posts to its parent. */
export const EMBED_EVENT = "reelkit:event";

export type EmbedCommand =
  | { type: typeof EMBED_COMMAND; command: "play" | "pause" | "mute" | "unmute" }
  | { type: typeof EMBED_COMMAND; command: "seek" /** Seconds. */; time: number };

/** Every event carries the player's position; `error` adds a message. */
export interface EmbedEventBase {
  type: typeof EMBED_EVENT;
  /** The video id of the embed page. */
  videoId: string;
  /** Seconds. */
  currentTime: number;
  /** Seconds; null while unknown. */
  duration: number | null;
  paused: boolean;
  muted: boolean;
}

export type EmbedEvent =
  | (EmbedEventBase & { event: "ready" | "play" | "pause" | "timeupdate" | "ended" })
  | (EmbedEventBase & { event: "error"; message: string });

export type EmbedEventName = EmbedEvent["event"];

/** Whether a message's data is a command of this protocol (as the embed page checks it). */
export function isEmbedCommand(data: unknown): data is EmbedCommand {
  if (typeof data !== "object" || data === null) return false;
  const { type, command, time } = data as Record<string, unknown>;
  if (type !== EMBED_COMMAND) return false;
  if (command === "seek") return typeof time === "number" && Number.isFinite(time) && time >= 0;
  return command === "play" || command === "pause" || command === "mute" || command === "unmute";
}

/** Whether a message's data is an event of this protocol (for the page around the iframe). */
export function isEmbedEvent(data: unknown): data is EmbedEvent {
  return typeof data === "object" && data !== null && (data as { type?: unknown }).type === EMBED_EVENT;
}
