import { type KeyboardEvent, type RefObject, useCallback, useEffect, useRef, useState } from "react";
import type { UsePlayerResult } from "./use-player.js";

export type PlayerMenu = "quality" | "captions" | "speed";

export interface UsePlayerControlsOptions {
  /** The element that goes full screen and takes the shortcuts (the skin's root). */
  rootRef: RefObject<HTMLElement | null>;
  /** The rates `<` and `>` step through. */
  playbackRates?: readonly number[];
  /** Below this width (px) `compact` is true. Default 420. */
  compactWidth?: number;
  /** How long the controls stay after the pointer last moved while playing (ms). Default 2500. */
  idleMs?: number;
}

export interface PlayerControls {
  openMenu: PlayerMenu | null;
  setOpenMenu(menu: PlayerMenu | null): void;
  /** Playing, pointer still and no menu open: a skin hides its controls. */
  idle: boolean;
  /** Call on pointer activity: shows the controls again. */
  wake(): void;
  fullscreen: boolean;
  toggleFullscreen(): void;
  /** The root is narrower than `compactWidth`. */
  compact: boolean;
  /** The player's keyboard shortcuts; put on the root element. */
  onKeyDown(e: KeyboardEvent): void;
}

export const DEFAULT_PLAYBACK_RATES = [0.5, 0.75, 1, 1.25, 1.5, 2] as const;

/**
 * Keyboard shortcuts, menus, idle hiding, full screen and compact layout over a `usePlayer`
 * result. Shortcuts: Space/k play, j/l ∓10 s, ←/→ ∓5 s, ↑/↓ volume, 0–9 jump to 0–90 %, m mute,
 * f full screen, c captions, `<`/`>` slower/faster.
 */
export function usePlayerControls(player: UsePlayerResult, options: UsePlayerControlsOptions): PlayerControls {
  const { rootRef, playbackRates = DEFAULT_PLAYBACK_RATES, compactWidth = 420, idleMs = 2500 } = options;
  const [openMenu, setOpenMenu] = useState<PlayerMenu | null>(null);
  const [active, setActive] = useState(false);
  const [fullscreen, setFullscreen] = useState(false);
  const [compact, setCompact] = useState(false);
  const idleTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  useEffect(() => {
    // A ResizeObserver rather than a CSS container query: size containment would collapse the
    // player inside shrink-to-fit hosts (inline-block, flex items).
    const el = rootRef.current;
    if (!el || typeof ResizeObserver === "undefined") return;
    const observer = new ResizeObserver(([entry]) => entry && setCompact(entry.contentRect.width < compactWidth));
    observer.observe(el);
    return () => observer.disconnect();
  }, [rootRef, compactWidth]);

  useEffect(() => {
    const onChange = () => setFullscreen(document.fullscreenElement === rootRef.current);
    document.addEventListener("fullscreenchange", onChange);
    return () => {
      document.removeEventListener("fullscreenchange", onChange);
      clearTimeout(idleTimer.current);
    };
  }, [rootRef]);

  const wake = useCallback(() => {
    setActive(true);
    clearTimeout(idleTimer.current);
    idleTimer.current = setTimeout(() => setActive(false), idleMs);
  }, [idleMs]);

  const toggleFullscreen = () => {
    if (document.fullscreenElement) {
      void document.exitFullscreen?.();
      return;
    }
    const el = rootRef.current;
    if (el?.requestFullscreen) void el.requestFullscreen().catch(() => undefined);
    // iOS Safari has no element fullscreen, only the video's own.
    else (player.mediaRef.current as { webkitEnterFullscreen?: () => void } | null)?.webkitEnterFullscreen?.();
  };

  const { actions, state, captions } = player;
  const stepRate = (direction: 1 | -1) => {
    const rates = [...playbackRates].sort((a, b) => a - b);
    const next =
      direction > 0 ? rates.find((r) => r > state.playbackRate) : rates.reverse().find((r) => r < state.playbackRate);
    if (next !== undefined) actions.setPlaybackRate(next);
  };

  const onKeyDown = (e: KeyboardEvent) => {
    const v = player.mediaRef.current;
    if (!v) return;
    // Space and Enter activate the focused button; they are not shortcuts there.
    const onButton = (e.target as HTMLElement).tagName === "BUTTON";
    if (onButton && (e.key === " " || e.key === "Enter")) return;
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (/^[0-9]$/.test(e.key)) {
      if (state.duration > 0) actions.seek((state.duration * Number(e.key)) / 10);
    } else {
      switch (e.key) {
        case " ":
        case "k":
          actions.togglePlay();
          break;
        case "j":
          actions.seek(v.currentTime - 10);
          break;
        case "l":
          actions.seek(v.currentTime + 10);
          break;
        case "ArrowLeft":
          actions.seek(v.currentTime - 5);
          break;
        case "ArrowRight":
          actions.seek(v.currentTime + 5);
          break;
        case "ArrowUp":
          actions.setVolume(Math.round((v.muted ? 0 : v.volume) * 20 + 1) / 20);
          break;
        case "ArrowDown":
          actions.setVolume(Math.round((v.muted ? 0 : v.volume) * 20 - 1) / 20);
          break;
        case "m":
          actions.toggleMute();
          break;
        case "f":
          toggleFullscreen();
          break;
        case "c":
          captions.toggle();
          break;
        case ">":
          stepRate(1);
          break;
        case "<":
          stepRate(-1);
          break;
        default:
          return;
      }
    }
    e.preventDefault();
    wake();
  };

  return {
    openMenu,
    setOpenMenu,
    idle: !state.paused && !active && openMenu === null,
    wake,
    fullscreen,
    toggleFullscreen,
    compact,
    onKeyDown,
  };
}
