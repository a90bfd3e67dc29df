import type { VideoPlayerHandle } from "@reelkit/react";
import { EMBED_EVENT, type EmbedEvent, type EmbedEventName, isEmbedCommand } from "@reelkit/sdk";

/** At most one `timeupdate` per this many ms reaches the parent (the media fires ~4 a second). */
export const TIMEUPDATE_INTERVAL_MS = 250;

/**
 * The embed page's side of the postMessage protocol (`@reelkit/sdk`'s `EmbedCommand` and
 * `EmbedEvent`): commands from the parent page, whatever its origin, drive the player's handle;
 * events go to `window.parent` only. Returns the event sender and a function that stops
 * listening.
 */
export function connectParent(options: { videoId: string; player: () => VideoPlayerHandle | null; window?: Window }): {
  send: (event: EmbedEventName, extra?: { message: string }) => void;
  close: () => void;
} {
  const win = options.window ?? window;
  const parent = win.parent !== win ? win.parent : null;
  let lastTimeUpdate = 0;

  const send = (event: EmbedEventName, extra?: { message: string }) => {
    if (!parent) return;
    if (event === "timeupdate") {
      const now = Date.now();
      if (now - lastTimeUpdate < TIMEUPDATE_INTERVAL_MS) return;
      lastTimeUpdate = now;
    }
    const p = options.player();
    const duration = p?.duration;
    const message = {
      type: EMBED_EVENT,
      event,
      videoId: options.videoId,
      currentTime: p?.currentTime ?? 0,
      duration: duration !== undefined && Number.isFinite(duration) ? duration : null,
      paused: p?.paused ?? true,
      muted: p?.muted ?? false,
      ...(event === "error" ? { message: extra?.message ?? "Playback failed" } : {}),
    } as EmbedEvent;
    // Events say what plays and where; nothing in them is private to the video's page, and the
    // embedding page's origin is not known in advance.
    parent.postMessage(message, "*");
  };

  const onMessage = (e: MessageEvent) => {
    if (!parent || e.source !== parent || !isEmbedCommand(e.data)) return;
    const p = options.player();
    if (!p) return;
    const command = e.data;
    switch (command.command) {
      case "play":
        // Refused autoplay is reported by the media's own events; nothing to throw here.
        p.play().catch((err: unknown) => send("error", { message: err instanceof Error ? err.message : String(err) }));
        break;
      case "pause":
        p.pause();
        break;
      case "seek":
        p.currentTime = command.time;
        break;
      case "mute":
        p.muted = true;
        break;
      case "unmute":
        p.muted = false;
        break;
    }
  };
  win.addEventListener("message", onMessage);
  return { send, close: () => win.removeEventListener("message", onMessage) };
}
