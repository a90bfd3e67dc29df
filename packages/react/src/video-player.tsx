import {
  type AttachPlayerOptions,
  attachPlayer,
  newViewSession,
  type PlayerHandle,
  type PlayerLevel,
} from "@reelkit/sdk";
import { type KeyboardEvent, type SyntheticEvent, useCallback, useEffect, useRef, useState } from "react";
import { useReelkitClient } from "./context.js";
import { formatTime } from "./player/format-time.js";
import { ExitFullscreenIcon, FullscreenIcon, MutedIcon, PauseIcon, PlayIcon, VolumeIcon } from "./player/icons.js";
import { MenuButton } from "./player/menu-button.js";
import { SeekBar } from "./player/seek-bar.js";
import { useStoryboard } from "./player/use-storyboard.js";
import { useTextTracks } from "./player/use-text-tracks.js";
import { useVideo } from "./use-video.js";

/** A WebVTT captions file rendered as `<track kind="captions">`. */
export interface CaptionSource {
  src: string;
  /** BCP 47 language tag, e.g. "en". */
  srclang: string;
  label: string;
  default?: boolean;
}

export interface VideoPlayerProps {
  /** A catalog video id (needs <ReelkitProvider>) … */
  videoId?: string;
  /** … or an HLS master playlist URL. */
  src?: string;
  poster?: string;
  /** Storyboard WebVTT map (`sprite.jpg#xywh=…` cues) for seek-bar thumbnails; with `videoId` the catalog's is used unless this is set. */
  storyboard?: string;
  /** Caption files; subtitle tracks in the HLS master playlist are listed as well. */
  captions?: CaptionSource[];
  autoPlay?: boolean;
  className?: string;
  /** Injected player factory; defaults to the sdk's `attachPlayer`. */
  attach?: typeof attachPlayer;
  playerOptions?: AttachPlayerOptions;
  /**
   * With `videoId`: count a view in the catalog when playback first starts, once per mounted
   * player and video (its most-viewed sort). Default true.
   */
  countViews?: boolean;
}

/**
 * Adaptive HLS player with its own controls: seek bar with storyboard thumbnails, time, volume,
 * captions and quality menus, fullscreen and keyboard shortcuts.
 */
export function VideoPlayer(props: VideoPlayerProps) {
  if (props.videoId) return <CatalogPlayer {...props} videoId={props.videoId} />;
  return <HlsPlayer {...props} src={props.src ?? null} />;
}

function CatalogPlayer(props: VideoPlayerProps & { videoId: string }) {
  const client = useReelkitClient();
  const { video, error } = useVideo(props.videoId);
  // One playback session per mounted player and video: the first `playing` counts, replays,
  // seeks and stalls do not. A view that cannot be counted never troubles playback.
  const counted = useRef<string | null>(null);
  const countView = () => {
    if (props.countViews === false || counted.current === props.videoId) return;
    counted.current = props.videoId;
    client.recordView(props.videoId, newViewSession()).catch(() => {});
  };
  // A processing video plays from the start once every rendition has begun (`playable`).
  const notReady = video && !video.playable ? `This video is ${video.status.toLowerCase()}` : null;
  // Without a public media URL the catalog hands out server-relative paths ("/media/…"): they are
  // relative to the API server, which need not be the page's origin.
  const media = (url: string | null | undefined) =>
    url?.startsWith("/") && !url.startsWith("//") ? client.url(url) : url;
  return (
    <HlsPlayer
      {...props}
      src={media(video?.playbackUrl) ?? null}
      poster={props.poster ?? media(video?.posterUrl) ?? undefined}
      storyboard={props.storyboard ?? media(video?.storyboardVttUrl) ?? undefined}
      durationHint={video?.duration ?? undefined}
      externalError={
        error?.message ?? (video?.status === "FAILED" ? (video.failureReason ?? "Processing failed") : null)
      }
      waitingMessage={notReady}
      onPlaying={countView}
    />
  );
}

interface HlsPlayerProps extends Omit<VideoPlayerProps, "src"> {
  src: string | null;
  /** Called on every `playing` event (the catalog player counts the first). */
  onPlaying?: () => void;
  durationHint?: number;
  externalError?: string | null;
  waitingMessage?: string | null;
}

type OpenMenu = "quality" | "captions" | null;

/** How long the controls stay visible after the pointer last moved while playing. */
const CONTROLS_IDLE_MS = 2500;
/** Below this width (px) the volume slider and total time are hidden. */
const COMPACT_WIDTH = 420;

function HlsPlayer({
  src,
  poster,
  storyboard,
  captions,
  autoPlay,
  className,
  attach = attachPlayer,
  playerOptions,
  durationHint,
  onPlaying,
  countViews: _countViews,
  ...rest
}: HlsPlayerProps) {
  const root = useRef<HTMLDivElement>(null);
  const videoRef = useRef<HTMLVideoElement>(null);
  const player = useRef<PlayerHandle | null>(null);
  const [levels, setLevels] = useState<PlayerLevel[]>([]);
  const [current, setCurrent] = useState(-1);
  const [auto, setAuto] = useState(true);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [openMenu, setOpenMenu] = useState<OpenMenu>(null);
  const [paused, setPaused] = useState(true);
  const [time, setTime] = useState(0);
  const [mediaDuration, setMediaDuration] = useState(0);
  const [bufferedEnd, setBufferedEnd] = useState(0);
  const [muted, setMuted] = useState(false);
  const [volume, setVolume] = useState(1);
  const [fullscreen, setFullscreen] = useState(false);
  const [active, setActive] = useState(false);
  const [compact, setCompact] = useState(false);
  const idleTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  // Read when a source is attached: an inline options object must not re-attach on every render.
  const options = useRef(playerOptions);
  options.current = playerOptions;

  const cues = useStoryboard(storyboard);
  const text = useTextTracks(videoRef, (captions ?? []).map((c) => c.src).join("\n"));
  // While a processing video plays, the media's duration is the part encoded so far (a growing
  // live stream); the catalog already knows the whole length.
  const duration = Math.max(mediaDuration, durationHint ?? 0);

  useEffect(() => {
    const video = videoRef.current;
    if (!src || !video) return;
    let cancelled = false;
    let handle: PlayerHandle | null = null;
    const unsubs: Array<() => void> = [];
    setLoading(true);
    setError(null);
    attach(video, src, { autoplay: autoPlay, ...options.current }).then(
      (h) => {
        if (cancelled) return h.destroy();
        handle = h;
        player.current = h;
        setLevels(h.levels());
        setCurrent(h.currentLevel());
        unsubs.push(h.onLevelsLoaded((l) => setLevels(l)));
        unsubs.push(h.onLevelSwitched((i) => setCurrent(i)));
        unsubs.push(h.onError((e) => e.fatal && setError(e.message)));
      },
      (e: unknown) => !cancelled && setError(e instanceof Error ? e.message : String(e)),
    );
    return () => {
      cancelled = true;
      for (const u of unsubs) u();
      handle?.destroy();
      player.current = null;
    };
  }, [src, attach, autoPlay]);

  useEffect(() => {
    // Compact controls on narrow players. A ResizeObserver rather than a CSS container query: size
    // containment would collapse the player inside shrink-to-fit hosts (inline-block, flex items).
    const el = root.current;
    if (!el || typeof ResizeObserver === "undefined") return;
    const observer = new ResizeObserver(([entry]) => entry && setCompact(entry.contentRect.width < COMPACT_WIDTH));
    observer.observe(el);
    return () => observer.disconnect();
  }, []);

  useEffect(() => {
    const onChange = () => setFullscreen(document.fullscreenElement === root.current);
    document.addEventListener("fullscreenchange", onChange);
    return () => {
      document.removeEventListener("fullscreenchange", onChange);
      clearTimeout(idleTimer.current);
    };
  }, []);

  const togglePlay = useCallback(() => {
    const v = videoRef.current;
    if (!v) return;
    if (v.paused) void v.play()?.catch(() => undefined);
    else v.pause();
  }, []);

  const seekTo = useCallback((t: number) => {
    const v = videoRef.current;
    if (!v) return;
    const limit = Number.isFinite(v.duration) ? v.duration : Number.POSITIVE_INFINITY;
    v.currentTime = Math.min(limit, Math.max(0, t));
    setTime(v.currentTime);
  }, []);

  const toggleMute = () => {
    const v = videoRef.current;
    if (!v) return;
    v.muted = !v.muted;
    // Unmuting at volume 0 would stay silent.
    if (!v.muted && v.volume === 0) v.volume = 0.5;
    setMuted(v.muted);
  };

  const changeVolume = (value: number) => {
    const v = videoRef.current;
    if (!v) return;
    v.volume = value;
    v.muted = value === 0;
    setVolume(value);
    setMuted(v.muted);
  };

  const toggleFullscreen = () => {
    if (document.fullscreenElement) {
      void document.exitFullscreen?.();
      return;
    }
    const el = root.current;
    if (el?.requestFullscreen) void el.requestFullscreen().catch(() => undefined);
    // iOS Safari has no element fullscreen, only the video's own.
    else (videoRef.current as { webkitEnterFullscreen?: () => void } | null)?.webkitEnterFullscreen?.();
  };

  const chooseLevel = (index: number) => {
    player.current?.setLevel(index);
    setAuto(index === -1);
  };

  const wake = () => {
    setActive(true);
    clearTimeout(idleTimer.current);
    idleTimer.current = setTimeout(() => setActive(false), CONTROLS_IDLE_MS);
  };

  const onKeyDown = (e: KeyboardEvent) => {
    const v = videoRef.current;
    if (!v) return;
    // Space and Enter activate the focused button; they are not shortcuts there.
    const onButton = (e.target as HTMLElement).tagName === "BUTTON";
    if (onButton && (e.key === " " || e.key === "Enter")) return;
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    switch (e.key) {
      case " ":
      case "k":
        togglePlay();
        break;
      case "j":
        seekTo(v.currentTime - 10);
        break;
      case "l":
        seekTo(v.currentTime + 10);
        break;
      case "ArrowLeft":
        seekTo(v.currentTime - 5);
        break;
      case "ArrowRight":
        seekTo(v.currentTime + 5);
        break;
      case "m":
        toggleMute();
        break;
      case "f":
        toggleFullscreen();
        break;
      case "c":
        text.toggle();
        break;
      default:
        return;
    }
    e.preventDefault();
    wake();
  };

  const readTime = (e: SyntheticEvent<HTMLVideoElement>) => {
    const v = e.currentTarget;
    setTime(v.currentTime);
    const ranges = v.buffered;
    for (let i = 0; i < ranges.length; i++) {
      if (ranges.start(i) <= v.currentTime + 0.5 && ranges.end(i) >= v.currentTime) setBufferedEnd(ranges.end(i));
    }
  };
  const readDuration = (e: SyntheticEvent<HTMLVideoElement>) => {
    const d = e.currentTarget.duration;
    setMediaDuration(Number.isFinite(d) ? d : 0);
  };

  const shownError = rest.externalError ?? error;
  const label = (l: PlayerLevel) => l.name || `${l.height}p`;
  const playingLevel = levels[current];
  const qualityText = auto
    ? `Auto${playingLevel ? ` (${label(playingLevel)})` : ""}`
    : ((playingLevel && label(playingLevel)) ?? "—");
  const activeCaption = text.tracks.find((t) => t.index === text.active);
  const idle = !paused && !active && openMenu === null;

  return (
    <div
      ref={root}
      className={["rk-player", className].filter(Boolean).join(" ")}
      role="application"
      aria-roledescription="video player"
      aria-label="Video player"
      data-paused={paused || undefined}
      data-idle={idle || undefined}
      data-fullscreen={fullscreen || undefined}
      data-compact={compact || undefined}
      // biome-ignore lint/a11y/noNoninteractiveTabindex: the player takes keyboard shortcuts
      tabIndex={0}
      onKeyDown={onKeyDown}
      onPointerMove={wake}
      onPointerDown={wake}
    >
      {/* biome-ignore lint/a11y/useMediaCaption: caption tracks come from the captions prop or the stream */}
      <video
        ref={videoRef}
        className="rk-video"
        poster={poster}
        playsInline
        preload="metadata"
        onClick={togglePlay}
        // With preload="metadata" (native HLS) no data arrives before play: metadata ends loading.
        onLoadedMetadata={(e) => {
          setLoading(false);
          readDuration(e);
        }}
        onLoadedData={() => setLoading(false)}
        onWaiting={() => setLoading(true)}
        onPlaying={() => {
          setLoading(false);
          onPlaying?.();
        }}
        onPlay={() => setPaused(false)}
        onPause={() => setPaused(true)}
        onEnded={() => setPaused(true)}
        onTimeUpdate={readTime}
        onProgress={readTime}
        onSeeked={readTime}
        onDurationChange={readDuration}
        onVolumeChange={(e) => {
          setMuted(e.currentTarget.muted);
          setVolume(e.currentTarget.volume);
        }}
      >
        {captions?.map((c) => (
          <track key={c.src} kind="captions" src={c.src} srcLang={c.srclang} label={c.label} default={c.default} />
        ))}
      </video>
      {shownError ? (
        <div className="rk-player-error" role="alert">
          {shownError}
        </div>
      ) : rest.waitingMessage ? (
        <div className="rk-player-status" role="status">
          {rest.waitingMessage}
        </div>
      ) : (
        loading && (
          <div className="rk-player-status" role="status">
            Loading…
          </div>
        )
      )}
      <div className="rk-controls">
        <SeekBar currentTime={time} duration={duration} bufferedEnd={bufferedEnd} storyboard={cues} onSeek={seekTo} />
        <div className="rk-controls-row">
          <button type="button" className="rk-control" aria-label={paused ? "Play" : "Pause"} onClick={togglePlay}>
            {paused ? <PlayIcon /> : <PauseIcon />}
          </button>
          <div className="rk-volume">
            <button type="button" className="rk-control" aria-label={muted ? "Unmute" : "Mute"} onClick={toggleMute}>
              {muted || volume === 0 ? <MutedIcon /> : <VolumeIcon />}
            </button>
            <input
              type="range"
              className="rk-volume-slider"
              aria-label="Volume"
              min={0}
              max={1}
              step={0.05}
              value={muted ? 0 : volume}
              onChange={(e) => changeVolume(Number(e.currentTarget.value))}
              // Arrows adjust the volume here; they must not also seek.
              onKeyDown={(e) => e.key.startsWith("Arrow") && e.stopPropagation()}
            />
          </div>
          <span className="rk-time">
            <span className="rk-time-current">{formatTime(time)}</span>
            <span className="rk-time-separator" aria-hidden="true">
              {" / "}
            </span>
            <span className="rk-visually-hidden"> of </span>
            <span className="rk-time-total">{formatTime(duration)}</span>
          </span>
          <span className="rk-controls-spacer" />
          {text.tracks.length > 0 && (
            <MenuButton
              className="rk-captions"
              label={`Captions: ${activeCaption ? activeCaption.label : "Off"}`}
              menuLabel="Captions"
              open={openMenu === "captions"}
              onOpenChange={(open) => setOpenMenu(open ? "captions" : null)}
              items={[
                { key: "off", label: "Off", checked: text.active === -1, onSelect: () => text.select(-1) },
                ...text.tracks.map((t) => ({
                  key: String(t.index),
                  label: t.label,
                  checked: text.active === t.index,
                  onSelect: () => text.select(t.index),
                })),
              ]}
            >
              <span className="rk-cc" data-on={activeCaption ? true : undefined}>
                CC
              </span>
            </MenuButton>
          )}
          {levels.length > 0 && (
            <MenuButton
              className="rk-quality"
              label={`Quality: ${qualityText}`}
              menuLabel="Quality"
              open={openMenu === "quality"}
              onOpenChange={(open) => setOpenMenu(open ? "quality" : null)}
              items={[
                { key: "auto", label: "Auto", checked: auto, onSelect: () => chooseLevel(-1) },
                // Highest first, as viewers expect; hls.js orders levels by bitrate, lowest first.
                ...[...levels]
                  .sort((a, b) => b.height - a.height || b.bitrate - a.bitrate)
                  .map((l) => ({
                    key: String(l.index),
                    label: `${label(l)}${current === l.index ? " ●" : ""}`,
                    checked: !auto && current === l.index,
                    playing: current === l.index,
                    onSelect: () => chooseLevel(l.index),
                  })),
              ]}
            >
              {qualityText}
            </MenuButton>
          )}
          <button
            type="button"
            className="rk-control"
            aria-label={fullscreen ? "Exit full screen" : "Full screen"}
            onClick={toggleFullscreen}
          >
            {fullscreen ? <ExitFullscreenIcon /> : <FullscreenIcon />}
          </button>
        </div>
      </div>
    </div>
  );
}
