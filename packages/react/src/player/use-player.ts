import {
  type AttachPlayerOptions,
  attachPlayer,
  type PlayerHandle,
  type PlayerLevel,
  type PlayerVideoElement,
} from "@reelkit/sdk";
import {
  type ReactEventHandler,
  type RefObject,
  type SyntheticEvent,
  useCallback,
  useEffect,
  useRef,
  useState,
  type VideoHTMLAttributes,
} from "react";
import { type TextTracksState, useTextTracks } from "./use-text-tracks.js";

/** `true` and `"any"` try with sound and fall back to muted when the browser refuses; `"muted"` starts muted. */
export type AutoPlay = boolean | "muted" | "any";

/** The media events of `<video>`, each passed through as the element fires it. */
export type MediaEventProps = Pick<
  VideoHTMLAttributes<HTMLVideoElement>,
  | "onAbort"
  | "onCanPlay"
  | "onCanPlayThrough"
  | "onDurationChange"
  | "onEmptied"
  | "onEnded"
  | "onError"
  | "onLoadedData"
  | "onLoadedMetadata"
  | "onLoadStart"
  | "onPause"
  | "onPlay"
  | "onPlaying"
  | "onProgress"
  | "onRateChange"
  | "onSeeked"
  | "onSeeking"
  | "onStalled"
  | "onSuspend"
  | "onTimeUpdate"
  | "onVolumeChange"
  | "onWaiting"
>;

const MEDIA_EVENTS = [
  "onAbort",
  "onCanPlay",
  "onCanPlayThrough",
  "onDurationChange",
  "onEmptied",
  "onEnded",
  "onError",
  "onLoadedData",
  "onLoadedMetadata",
  "onLoadStart",
  "onPause",
  "onPlay",
  "onPlaying",
  "onProgress",
  "onRateChange",
  "onSeeked",
  "onSeeking",
  "onStalled",
  "onSuspend",
  "onTimeUpdate",
  "onVolumeChange",
  "onWaiting",
] as const satisfies ReadonlyArray<keyof MediaEventProps>;

export interface QualityChange {
  /** The level playing now; null before the first one is known. */
  level: PlayerLevel | null;
  /** True while the player chooses levels itself. */
  auto: boolean;
}

export interface UsePlayerOptions extends MediaEventProps {
  /** HLS master playlist URL; null while unknown (nothing is attached). */
  src: string | null;
  autoPlay?: AutoPlay;
  muted?: boolean;
  /** Seconds to start from, applied once per source when its metadata is known. */
  startTime?: number;
  playbackRate?: number;
  /** Caption files; re-read the element's text tracks when this list changes. */
  trackKey?: string;
  /** Injected player factory; defaults to the sdk's `attachPlayer`. */
  attach?: typeof attachPlayer;
  playerOptions?: AttachPlayerOptions;
  /** The catalog's duration: a processing video's media duration is only the part encoded so far. */
  durationHint?: number;
  onQualityChange?: (change: QualityChange) => void;
}

export interface PlayerState {
  paused: boolean;
  ended: boolean;
  /** Waiting for media data (before the first frame, or stalled). */
  loading: boolean;
  /** A fatal playback error, for people. */
  error: string | null;
  currentTime: number;
  /** Seconds; 0 while unknown. */
  duration: number;
  /** End of the buffered range around the playhead, in seconds. */
  bufferedEnd: number;
  /**
   * How much of the video exists and can be played, in seconds (the end of the element's seekable
   * range); less than `duration` while a processing video is still being written, 0 while unknown.
   */
  writtenEnd: number;
  muted: boolean;
  volume: number;
  playbackRate: number;
  /** The ladder (hls.js); empty with native HLS. */
  levels: PlayerLevel[];
  /** Index of the level playing, -1 when unknown. */
  currentLevel: number;
  autoLevel: boolean;
  /** The video's intrinsic size once known, else null. */
  videoSize: { width: number; height: number } | null;
  pictureInPicture: boolean;
  /** False where the browser has no picture-in-picture (or the element disables it). */
  pictureInPictureAvailable: boolean;
  /** True when autoplay had to fall back to muted playback. */
  autoPlayMuted: boolean;
}

export interface PlayerActions {
  play(): Promise<void>;
  pause(): void;
  togglePlay(): void;
  /** Seeks, clamped to [0, duration]. */
  seek(time: number): void;
  setMuted(muted: boolean): void;
  toggleMute(): void;
  /** 0..1; 0 mutes, anything else unmutes. */
  setVolume(volume: number): void;
  setPlaybackRate(rate: number): void;
  /** A level index, or -1 for automatic selection. */
  setLevel(index: number): void;
  togglePictureInPicture(): Promise<void>;
}

export interface UsePlayerResult {
  /** Give this to the `<video>` element. */
  mediaRef: RefObject<HTMLVideoElement | null>;
  /** Spread on the `<video>` element: keeps the state current and calls the event props. */
  mediaProps: Required<MediaEventProps>;
  state: PlayerState;
  actions: PlayerActions;
  captions: TextTracksState;
  /** The attached engine, once there is one. */
  engine: PlayerHandle | null;
}

type PipVideo = HTMLVideoElement & { disablePictureInPicture?: boolean };

function pipAvailable(video: HTMLVideoElement | null): boolean {
  if (typeof document === "undefined" || !video) return false;
  return Boolean(
    (document as { pictureInPictureEnabled?: boolean }).pictureInPictureEnabled &&
      typeof video.requestPictureInPicture === "function" &&
      !(video as PipVideo).disablePictureInPicture,
  );
}

function isAutoplayRefusal(error: unknown): boolean {
  // A DOMException; not every environment makes those instances of Error.
  return typeof error === "object" && error !== null && (error as { name?: unknown }).name === "NotAllowedError";
}

/**
 * The headless player: owns the `<video>` element's engine (hls.js or native HLS), autoplay,
 * start time and rate, and reads the media's state back from its events. Render any skin over
 * `state` and `actions`; give `mediaRef` and `mediaProps` to the `<video>`.
 */
export function usePlayer(options: UsePlayerOptions): UsePlayerResult {
  const { src, attach = attachPlayer, autoPlay = false, durationHint } = options;
  const mediaRef = useRef<HTMLVideoElement | null>(null);
  const [engine, setEngine] = useState<PlayerHandle | null>(null);
  const [levels, setLevels] = useState<PlayerLevel[]>([]);
  const [currentLevel, setCurrentLevel] = useState(-1);
  const [autoLevel, setAutoLevel] = useState(true);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [paused, setPaused] = useState(true);
  const [ended, setEnded] = useState(false);
  const [currentTime, setCurrentTime] = useState(0);
  const [mediaDuration, setMediaDuration] = useState(0);
  const [bufferedEnd, setBufferedEnd] = useState(0);
  const [writtenEnd, setWrittenEnd] = useState(0);
  const [muted, setMutedState] = useState(Boolean(options.muted) || autoPlay === "muted");
  const [volume, setVolumeState] = useState(1);
  const [playbackRate, setRateState] = useState(options.playbackRate ?? 1);
  const [videoSize, setVideoSize] = useState<PlayerState["videoSize"]>(null);
  const [pictureInPicture, setPictureInPicture] = useState(false);
  const [pictureInPictureAvailable, setPipAvailable] = useState(false);
  const [autoPlayMuted, setAutoPlayMuted] = useState(false);

  // Callbacks and options read when events fire: inline props must not re-attach the engine.
  const latest = useRef(options);
  latest.current = options;
  const startApplied = useRef<string | null>(null);
  /** Forgets a play asked for while the source was still opening (see playWhenOpen). */
  const pendingPlay = useRef<(() => void) | null>(null);
  const cancelPendingPlay = () => {
    pendingPlay.current?.();
    pendingPlay.current = null;
  };
  /**
   * Plays. A play() while the engine is still opening the source (hls.js not yet attached, or
   * its first load under way) is refused or aborted by that load: a viewer who pressed play
   * early would see nothing happen. Such a request is made again once the media is known.
   */
  const playWhenOpen = (v: HTMLVideoElement): Promise<void> =>
    Promise.resolve(v.play()).catch((error: unknown) => {
      if (v.readyState >= 1 || !v.paused) throw error;
      cancelPendingPlay();
      return new Promise<void>((resolve, reject) => {
        const retry = () => {
          pendingPlay.current = null;
          Promise.resolve(v.play()).then(resolve, reject);
        };
        v.addEventListener("loadedmetadata", retry, { once: true });
        pendingPlay.current = () => {
          v.removeEventListener("loadedmetadata", retry);
          resolve();
        };
      });
    });

  const captions = useTextTracks(mediaRef, options.trackKey ?? "");

  const reportQuality = useCallback((list: PlayerLevel[], index: number, auto: boolean) => {
    latest.current.onQualityChange?.({ level: list[index] ?? null, auto });
  }, []);

  // biome-ignore lint/correctness/useExhaustiveDependencies: autoPlay is read once per source, as the attribute is
  useEffect(() => {
    const video = mediaRef.current;
    setPipAvailable(pipAvailable(video));
    if (!src || !video) return;
    let cancelled = false;
    let handle: PlayerHandle | null = null;
    const unsubs: Array<() => void> = [];
    setLoading(true);
    setError(null);
    setAutoPlayMuted(false);
    startApplied.current = null;
    if (autoPlay === "muted") video.muted = true;
    attach(video as PlayerVideoElement, src, latest.current.playerOptions).then(
      (h) => {
        if (cancelled) return h.destroy();
        handle = h;
        setEngine(h);
        let list = h.levels();
        let index = h.currentLevel();
        setLevels(list);
        setCurrentLevel(index);
        setAutoLevel(h.isAuto());
        unsubs.push(
          h.onLevelsLoaded((l) => {
            list = l;
            setLevels(l);
          }),
        );
        unsubs.push(
          h.onLevelSwitched((i) => {
            index = i;
            setCurrentLevel(i);
            reportQuality(list, i, h.isAuto());
          }),
        );
        unsubs.push(h.onError((e) => e.fatal && setError(e.message)));
        if (autoPlay) startAutoPlay(video, autoPlay, () => !cancelled, setAutoPlayMuted);
      },
      (e: unknown) => !cancelled && setError(e instanceof Error ? e.message : String(e)),
    );
    return () => {
      cancelled = true;
      cancelPendingPlay();
      for (const u of unsubs) u();
      handle?.destroy();
      setEngine(null);
    };
  }, [src, attach, reportQuality]);

  // Props that mirror element properties follow their changes.
  useEffect(() => {
    const video = mediaRef.current;
    if (video && options.muted !== undefined) video.muted = options.muted;
  }, [options.muted]);
  useEffect(() => {
    const video = mediaRef.current;
    if (video && options.playbackRate !== undefined) {
      video.defaultPlaybackRate = options.playbackRate;
      video.playbackRate = options.playbackRate;
    }
  }, [options.playbackRate]);

  useEffect(() => {
    const video = mediaRef.current;
    if (!video) return;
    const enter = () => setPictureInPicture(true);
    const leave = () => setPictureInPicture(false);
    video.addEventListener("enterpictureinpicture", enter);
    video.addEventListener("leavepictureinpicture", leave);
    return () => {
      video.removeEventListener("enterpictureinpicture", enter);
      video.removeEventListener("leavepictureinpicture", leave);
    };
  }, []);

  // A growing video's seekable range ends where its playlist does (hls.js sets the duration
  // there; native HLS reports an EVENT playlist's duration as Infinity but its seekable range).
  const readWritten = (v: HTMLVideoElement) => {
    const ranges = v.seekable;
    setWrittenEnd(ranges && ranges.length > 0 ? ranges.end(ranges.length - 1) : 0);
  };
  const readTime = (v: HTMLVideoElement) => {
    setCurrentTime(v.currentTime);
    readWritten(v);
    const ranges = v.buffered;
    for (let i = 0; i < (ranges?.length ?? 0); i++) {
      if (ranges.start(i) <= v.currentTime + 0.5 && ranges.end(i) >= v.currentTime) setBufferedEnd(ranges.end(i));
    }
  };
  const readDuration = (v: HTMLVideoElement) => {
    setMediaDuration(Number.isFinite(v.duration) ? v.duration : 0);
    readWritten(v);
  };

  // What the player itself does on each event, before the event prop is called.
  const own: Partial<Record<(typeof MEDIA_EVENTS)[number], (v: HTMLVideoElement) => void>> = {
    onLoadedMetadata: (v) => {
      // With preload="metadata" (native HLS) no data arrives before play: metadata ends loading.
      setLoading(false);
      readDuration(v);
      if (v.videoWidth > 0 && v.videoHeight > 0) setVideoSize({ width: v.videoWidth, height: v.videoHeight });
      const start = latest.current.startTime;
      if (start && start > 0 && startApplied.current !== src) {
        startApplied.current = src;
        v.currentTime = start;
      }
      const rate = latest.current.playbackRate;
      if (rate !== undefined && v.playbackRate !== rate) v.playbackRate = rate;
    },
    onLoadedData: () => setLoading(false),
    onWaiting: () => setLoading(true),
    onPlaying: () => setLoading(false),
    onPlay: () => {
      setPaused(false);
      setEnded(false);
    },
    onPause: () => setPaused(true),
    onEnded: () => {
      setPaused(true);
      setEnded(true);
    },
    onTimeUpdate: readTime,
    onProgress: readTime,
    onSeeked: readTime,
    onDurationChange: readDuration,
    onVolumeChange: (v) => {
      setMutedState(v.muted);
      setVolumeState(v.volume);
    },
    onRateChange: (v) => setRateState(v.playbackRate),
    onEmptied: () => {
      setCurrentTime(0);
      setMediaDuration(0);
      setBufferedEnd(0);
      setWrittenEnd(0);
    },
  };
  const mediaProps = {} as Record<(typeof MEDIA_EVENTS)[number], ReactEventHandler<HTMLVideoElement>>;
  for (const name of MEDIA_EVENTS) {
    mediaProps[name] = (e: SyntheticEvent<HTMLVideoElement>) => {
      own[name]?.(e.currentTarget);
      latest.current[name]?.(e);
    };
  }

  const actions: PlayerActions = {
    play: async () => {
      const v = mediaRef.current;
      if (v) await playWhenOpen(v);
    },
    pause: () => {
      cancelPendingPlay();
      mediaRef.current?.pause();
    },
    togglePlay: () => {
      const v = mediaRef.current;
      if (!v) return;
      // A second press before the source opened takes the first one back.
      if (pendingPlay.current) cancelPendingPlay();
      else if (v.paused) void playWhenOpen(v).catch(() => undefined);
      else v.pause();
    },
    seek: (t) => {
      const v = mediaRef.current;
      if (!v) return;
      // Never past what exists: the end of a growing video is its seekable range's.
      const seekable = v.seekable?.length ? v.seekable.end(v.seekable.length - 1) : Number.NaN;
      const limit = Number.isFinite(v.duration)
        ? v.duration
        : Number.isFinite(seekable)
          ? seekable
          : Number.POSITIVE_INFINITY;
      v.currentTime = Math.min(limit, Math.max(0, t));
      setCurrentTime(v.currentTime);
    },
    setMuted: (value) => {
      const v = mediaRef.current;
      if (!v) return;
      v.muted = value;
      // Unmuting at volume 0 would stay silent.
      if (!value && v.volume === 0) v.volume = 0.5;
      setMutedState(v.muted);
      if (!value) setAutoPlayMuted(false);
    },
    toggleMute: () => actions.setMuted(!mediaRef.current?.muted),
    setVolume: (value) => {
      const v = mediaRef.current;
      if (!v) return;
      const clamped = Math.min(1, Math.max(0, value));
      v.volume = clamped;
      v.muted = clamped === 0;
      setVolumeState(clamped);
      setMutedState(v.muted);
    },
    setPlaybackRate: (rate) => {
      const v = mediaRef.current;
      if (!v) return;
      v.playbackRate = rate;
      setRateState(rate);
    },
    setLevel: (index) => {
      engine?.setLevel(index);
      const auto = index === -1;
      setAutoLevel(auto);
      if (!auto) reportQuality(levels, index, false);
    },
    togglePictureInPicture: async () => {
      const v = mediaRef.current;
      if (!v) return;
      const doc = document as Document & { pictureInPictureElement?: Element | null };
      if (doc.pictureInPictureElement) await document.exitPictureInPicture();
      else await v.requestPictureInPicture();
    },
  };

  return {
    mediaRef,
    mediaProps: mediaProps as Required<MediaEventProps>,
    state: {
      paused,
      ended,
      loading,
      error,
      currentTime,
      // While a processing video plays, the media's duration is the part encoded so far.
      duration: Math.max(mediaDuration, durationHint ?? 0),
      bufferedEnd,
      writtenEnd,
      muted,
      volume,
      playbackRate,
      levels,
      currentLevel,
      autoLevel,
      videoSize,
      pictureInPicture,
      pictureInPictureAvailable,
      autoPlayMuted,
    },
    actions,
    captions,
    engine,
  };
}

/**
 * Starts playback as `autoPlay` asks. Browsers refuse unmuted autoplay without a user gesture
 * (NotAllowedError): then playback starts muted, the way viewers expect a page video to start.
 */
function startAutoPlay(
  video: HTMLVideoElement,
  mode: Exclude<AutoPlay, false>,
  alive: () => boolean,
  onMutedFallback: (muted: boolean) => void,
): void {
  if (mode === "muted") video.muted = true;
  const start = () => {
    if (!alive()) return;
    void Promise.resolve(video.play()).catch((error: unknown) => {
      if (!alive() || video.muted || !isAutoplayRefusal(error)) return;
      video.muted = true;
      onMutedFallback(true);
      return Promise.resolve(video.play()).catch(() => undefined);
    });
  };
  // Once the media is known: a play() while the engine is still opening the source can be
  // aborted by that load instead of being answered with the browser's autoplay decision.
  if (video.readyState >= 1) start();
  else video.addEventListener("loadedmetadata", start, { once: true });
}
