import { type AttachPlayerOptions, type attachPlayer, newViewSession } from "@reelkit/sdk";
import {
  type CSSProperties,
  type ForwardedRef,
  forwardRef,
  type ReactEventHandler,
  type RefObject,
  useImperativeHandle,
  useRef,
} from "react";
import { useReelkitClient } from "./context.js";
import {
  CaptionsMenu,
  FullscreenButton,
  PictureInPictureButton,
  PlayButton,
  QualityMenu,
  SpeedMenu,
  TimeDisplay,
  VolumeControl,
} from "./player/controls.js";
import { MutedIcon } from "./player/icons.js";
import { type Chapter, SeekBar } from "./player/seek-bar.js";
import { type AutoPlay, type MediaEventProps, type QualityChange, usePlayer } from "./player/use-player.js";
import { DEFAULT_PLAYBACK_RATES, usePlayerControls } from "./player/use-player-controls.js";
import { useStoryboard } from "./player/use-storyboard.js";
import { useVideo } from "./use-video.js";

/** A WebVTT file rendered as a `<track>`: listed in the captions menu. */
export interface TextTrackSource {
  src: string;
  /** BCP 47 language tag, e.g. "en". */
  srclang: string;
  label: string;
  /** Default "captions". */
  kind?: "captions" | "subtitles";
  default?: boolean;
}
/** @deprecated The `captions` prop's entries; use `tracks` with {@link TextTrackSource}. */
export type CaptionSource = TextTrackSource;

/**
 * The imperative handle of `<VideoPlayer ref>`: the `HTMLMediaElement` members a page reaches
 * for, plus the element itself as `media`.
 */
export interface VideoPlayerHandle {
  /** The `<video>` element (null before mount). */
  readonly media: HTMLVideoElement | null;
  play(): Promise<void>;
  pause(): void;
  currentTime: number;
  /** Seconds; NaN while unknown. */
  readonly duration: number;
  readonly paused: boolean;
  readonly ended: boolean;
  muted: boolean;
  volume: number;
  playbackRate: number;
  /** Full screen for the whole player (controls included), not only the video. */
  requestFullscreen(): Promise<void>;
  requestPictureInPicture(): Promise<PictureInPictureWindow>;
  /** The `metadata` prop. */
  readonly metadata: Readonly<Record<string, string | number | boolean>>;
}

export interface VideoPlayerProps extends MediaEventProps {
  /** A catalog video id (needs <ReelkitProvider>) … */
  videoId?: string;
  /** … or an HLS master playlist URL. */
  src?: string;
  poster?: string;
  /** Storyboard WebVTT map (`sprite.jpg#xywh=…` cues) for seek-bar thumbnails; with `videoId` the catalog's is used unless this is set. */
  storyboard?: string;
  /** Caption and subtitle files; subtitle tracks in the HLS master playlist are listed as well. */
  tracks?: TextTrackSource[];
  /** @deprecated Same as `tracks`. */
  captions?: TextTrackSource[];
  /** Markers on the seek bar; the preview and the slider's value name the chapter. */
  chapters?: Chapter[];
  /** `true`/`"any"`: start with sound, muted when the browser refuses; `"muted"`: start muted. */
  autoPlay?: AutoPlay;
  muted?: boolean;
  loop?: boolean;
  /** Seconds to start from. */
  startTime?: number;
  /** Default true; false leaves the video alone (the keyboard, a click and the handle still work). */
  controls?: boolean;
  playbackRate?: number;
  /** The speed menu's choices. Default 0.5, 0.75, 1, 1.25, 1.5, 2; an empty list hides the menu. */
  playbackRates?: readonly number[];
  /** Default "metadata". */
  preload?: "none" | "metadata" | "auto";
  /** Default true (no forced full screen on iOS). */
  playsInline?: boolean;
  /** For media and caption files on another origin (their server must answer with CORS headers). */
  crossOrigin?: "anonymous" | "use-credentials";
  /** Shown over the video and part of the player's accessible name. */
  title?: string;
  /** Free-form data about the view for the page's own analytics; read back from the handle. */
  metadata?: Record<string, string | number | boolean>;
  /** Width / height of the player box, e.g. 16 / 9 or "4 / 3"; default the video's own, else 16/9. */
  aspectRatio?: number | string;
  /** Sets `--rk-accent` (seek bar, focus rings, selected items). */
  accentColor?: string;
  className?: string;
  style?: CSSProperties;
  /** Injected player factory; defaults to the sdk's `attachPlayer`. */
  attach?: typeof attachPlayer;
  playerOptions?: AttachPlayerOptions;
  /**
   * With `videoId`: count a view in the catalog when playback first starts, once per mounted
   * player and video (its most-viewed sort). Default true.
   */
  countViews?: boolean;
  /** The level playing changed (or the viewer chose one, or Auto). */
  onQualityChange?: (change: QualityChange) => void;
}

/**
 * Adaptive HLS player with its own controls: seek bar with storyboard thumbnails and chapters,
 * time, volume, speed, captions and quality menus, picture-in-picture, full screen and keyboard
 * shortcuts. A skin over `usePlayer` and `usePlayerControls`.
 */
export const VideoPlayer = forwardRef<VideoPlayerHandle, VideoPlayerProps>(function VideoPlayer(props, ref) {
  if (props.videoId) return <CatalogPlayer {...props} videoId={props.videoId} playerRef={ref} />;
  return <HlsPlayer {...props} src={props.src ?? null} playerRef={ref} />;
});

type PlayerRef = ForwardedRef<VideoPlayerHandle>;

function CatalogPlayer({ playerRef, ...props }: VideoPlayerProps & { videoId: string; playerRef: PlayerRef }) {
  const client = useReelkitClient();
  const { video, error } = useVideo(props.videoId);
  // One playback session per mounted player and video: the first `playing` counts, replays,
  // seeks and stalls do not. A view that cannot be counted never troubles playback.
  const counted = useRef<string | null>(null);
  const onPlaying: ReactEventHandler<HTMLVideoElement> = (e) => {
    props.onPlaying?.(e);
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
      playerRef={playerRef}
      src={media(video?.playbackUrl) ?? null}
      poster={props.poster ?? media(video?.posterUrl) ?? undefined}
      storyboard={props.storyboard ?? media(video?.storyboardVttUrl) ?? undefined}
      // The catalog's chapters (the owner's or the source's) mark the seek bar unless given here.
      chapters={props.chapters ?? (video?.chapters.length ? video.chapters : undefined)}
      durationHint={video?.duration ?? undefined}
      sizeHint={video?.width && video.height ? video.width / video.height : undefined}
      externalError={
        error?.message ?? (video?.status === "FAILED" ? (video.failureReason ?? "Processing failed") : null)
      }
      waitingMessage={notReady}
      onPlaying={onPlaying}
    />
  );
}

interface HlsPlayerProps extends Omit<VideoPlayerProps, "src"> {
  src: string | null;
  playerRef: PlayerRef;
  durationHint?: number;
  /** The catalog's width / height, known before the media's. */
  sizeHint?: number;
  externalError?: string | null;
  waitingMessage?: string | null;
}

function HlsPlayer(props: HlsPlayerProps) {
  const {
    src,
    poster,
    storyboard,
    chapters,
    loop,
    preload = "metadata",
    playsInline = true,
    crossOrigin,
    title,
    aspectRatio,
    accentColor,
    className,
    style,
    playbackRates = DEFAULT_PLAYBACK_RATES,
  } = props;
  const root = useRef<HTMLDivElement>(null);
  const tracks = [...(props.tracks ?? []), ...(props.captions ?? [])];
  const player = usePlayer({ ...props, src, trackKey: tracks.map((t) => t.src).join("\n") });
  const controls = usePlayerControls(player, { rootRef: root, playbackRates });
  const cues = useStoryboard(storyboard);
  const { state, actions, mediaRef, mediaProps } = player;

  const metadata = useRef(props.metadata ?? {});
  metadata.current = props.metadata ?? {};
  useImperativeHandle(props.playerRef, () => createHandle(mediaRef, root, metadata), [mediaRef]);

  const shownError = props.externalError ?? state.error;
  const ratio =
    aspectRatio ??
    (state.videoSize ? state.videoSize.width / state.videoSize.height : undefined) ??
    props.sizeHint ??
    16 / 9;
  const rootStyle = {
    "--rk-aspect-ratio": String(ratio),
    ...(accentColor ? { "--rk-accent": accentColor } : {}),
    ...style,
  } as CSSProperties;

  return (
    // A labelled region, not role="application": screen readers keep their own keys, and every
    // control inside is a native button, slider or menu.
    <section
      ref={root}
      className={["rk-player", className].filter(Boolean).join(" ")}
      aria-label={title ? `Video player: ${title}` : "Video player"}
      style={rootStyle}
      data-paused={state.paused || undefined}
      data-idle={controls.idle || undefined}
      data-fullscreen={controls.fullscreen || undefined}
      data-compact={controls.compact || undefined}
      // biome-ignore lint/a11y/noNoninteractiveTabindex: the player takes keyboard shortcuts
      tabIndex={0}
      onKeyDown={controls.onKeyDown}
      onPointerMove={controls.wake}
      onPointerDown={controls.wake}
    >
      <video
        ref={mediaRef}
        className="rk-video"
        poster={poster}
        playsInline={playsInline}
        preload={preload}
        loop={loop}
        crossOrigin={crossOrigin}
        title={title}
        onClick={actions.togglePlay}
        {...mediaProps}
      >
        {tracks.map((t) => (
          <track
            key={t.src}
            kind={t.kind ?? "captions"}
            src={t.src}
            srcLang={t.srclang}
            label={t.label}
            default={t.default}
          />
        ))}
      </video>
      {title && (
        <div className="rk-title" aria-hidden="true">
          {title}
        </div>
      )}
      {shownError ? (
        <div className="rk-player-error" role="alert">
          {shownError}
        </div>
      ) : props.waitingMessage ? (
        <div className="rk-player-status" role="status">
          {props.waitingMessage}
        </div>
      ) : (
        state.loading && (
          <div className="rk-player-status" role="status">
            Loading…
          </div>
        )
      )}
      {state.autoPlayMuted && !shownError && (
        <button type="button" className="rk-unmute" onClick={() => actions.setMuted(false)}>
          <MutedIcon />
          Tap to unmute
        </button>
      )}
      {props.controls !== false && (
        <div className="rk-controls">
          <SeekBar
            currentTime={state.currentTime}
            duration={state.duration}
            bufferedEnd={state.bufferedEnd}
            writtenEnd={state.writtenEnd}
            storyboard={cues}
            chapters={chapters}
            onSeek={actions.seek}
          />
          <div className="rk-controls-row">
            <PlayButton player={player} />
            <VolumeControl player={player} />
            <TimeDisplay player={player} />
            <span className="rk-controls-spacer" />
            <SpeedMenu player={player} controls={controls} playbackRates={playbackRates} />
            <CaptionsMenu player={player} controls={controls} />
            <QualityMenu player={player} controls={controls} />
            <PictureInPictureButton player={player} />
            <FullscreenButton controls={controls} />
          </div>
        </div>
      )}
    </section>
  );
}

function createHandle(
  media: RefObject<HTMLVideoElement | null>,
  root: RefObject<HTMLElement | null>,
  metadata: RefObject<Record<string, string | number | boolean>>,
): VideoPlayerHandle {
  const video = () => {
    const el = media.current;
    if (!el) throw new Error("VideoPlayer: the video element is not mounted");
    return el;
  };
  return {
    get media() {
      return media.current;
    },
    play: async () => {
      await video().play();
    },
    pause: () => video().pause(),
    get currentTime() {
      return media.current?.currentTime ?? 0;
    },
    set currentTime(t: number) {
      video().currentTime = t;
    },
    get duration() {
      return media.current?.duration ?? Number.NaN;
    },
    get paused() {
      return media.current?.paused ?? true;
    },
    get ended() {
      return media.current?.ended ?? false;
    },
    get muted() {
      return media.current?.muted ?? false;
    },
    set muted(value: boolean) {
      video().muted = value;
    },
    get volume() {
      return media.current?.volume ?? 1;
    },
    set volume(value: number) {
      video().volume = value;
    },
    get playbackRate() {
      return media.current?.playbackRate ?? 1;
    },
    set playbackRate(value: number) {
      video().playbackRate = value;
    },
    requestFullscreen: async () => {
      const el = root.current;
      if (el?.requestFullscreen) return el.requestFullscreen();
      (media.current as { webkitEnterFullscreen?: () => void } | null)?.webkitEnterFullscreen?.();
    },
    requestPictureInPicture: () => video().requestPictureInPicture(),
    get metadata() {
      return metadata.current ?? {};
    },
  };
}
