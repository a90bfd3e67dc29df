/**
 * Adaptive HLS playback on a <video> element: hls.js where Media Source Extensions exist, the
 * browser's native HLS otherwise (Safari on iOS). hls.js is imported lazily so that importing
 * the SDK never touches `window` (SSR-safe).
 */
import type HlsType from "hls.js";
import type { HlsConfig } from "hls.js";

export interface PlayerLevel {
  index: number;
  width: number;
  height: number;
  /** Peak bits per second. */
  bitrate: number;
  /** e.g. "720p" */
  name: string;
}

export interface PlayerError {
  fatal: boolean;
  type: string;
  details: string;
  message: string;
}

export interface PlayerHandle {
  readonly engine: "hls.js" | "native";
  /** The rungs of the ladder; empty with native HLS (the browser picks levels itself). */
  levels(): PlayerLevel[];
  /** Index of the level playing now; -1 when unknown (native HLS, or before the first one). */
  currentLevel(): number;
  /** True while hls.js chooses levels itself. */
  isAuto(): boolean;
  /** Choose a level by index, or -1 for automatic selection. */
  setLevel(index: number): void;
  onLevelSwitched(listener: (index: number) => void): () => void;
  /** Fires when the level list becomes known. */
  onLevelsLoaded(listener: (levels: PlayerLevel[]) => void): () => void;
  onError(listener: (error: PlayerError) => void): () => void;
  destroy(): void;
}

export interface AttachPlayerOptions {
  /** Extra hls.js configuration. */
  hlsConfig?: Partial<HlsConfig>;
  /** Bearer token for playlist and segment requests (hls.js only). */
  getToken?: () => string | null | undefined;
  /** Start playback once attached. */
  autoplay?: boolean;
  /**
   * Play through the browser's own HLS where it has one, even when hls.js could run (Safari on
   * macOS). Default false: hls.js wherever Media Source Extensions exist.
   */
  preferNative?: boolean;
  /** Loads hls.js; override to use a different build. Defaults to `import("hls.js")`. */
  loadHls?: () => Promise<typeof HlsType>;
}

/** The parts of HTMLVideoElement the player needs (kept narrow so it can run anywhere). */
export type PlayerVideoElement = Pick<
  HTMLVideoElement,
  "canPlayType" | "src" | "removeAttribute" | "load" | "play" | "addEventListener" | "removeEventListener"
>;

const HLS_MIME = "application/vnd.apple.mpegurl";

/**
 * Whether Media Source Extensions can play H.264 + AAC here, as hls.js's `isSupported` asks, but
 * without loading hls.js (174 KiB gzip) to find out.
 */
export function mediaSourceAvailable(): boolean {
  const scope = globalThis as {
    MediaSource?: { isTypeSupported?: (type: string) => boolean };
    ManagedMediaSource?: { isTypeSupported?: (type: string) => boolean };
    WebKitMediaSource?: { isTypeSupported?: (type: string) => boolean };
  };
  const source = scope.ManagedMediaSource ?? scope.MediaSource ?? scope.WebKitMediaSource;
  return (
    typeof source?.isTypeSupported === "function" && source.isTypeSupported('video/mp4; codecs="avc1.42E01E,mp4a.40.2"')
  );
}

/**
 * Which engine `attachPlayer` will use on this element: hls.js where Media Source Extensions
 * exist (it offers the quality choice and bearer tokens), unless `preferNative` asks for the
 * browser's own HLS; native HLS alone otherwise. Null when neither can play HLS.
 */
export function choosePlayerEngine(
  video: Pick<PlayerVideoElement, "canPlayType">,
  options: Pick<AttachPlayerOptions, "preferNative"> = {},
): PlayerHandle["engine"] | null {
  const native = video.canPlayType(HLS_MIME) !== "";
  if (native && (options.preferNative || !mediaSourceAvailable())) return "native";
  if (mediaSourceAvailable()) return "hls.js";
  return native ? "native" : null;
}

export async function attachPlayer(
  video: PlayerVideoElement,
  masterUrl: string,
  options: AttachPlayerOptions = {},
): Promise<PlayerHandle> {
  // Decided before hls.js is imported: an element that plays natively never downloads it.
  const engine = choosePlayerEngine(video, options);
  if (engine === "native") return attachNative(video, masterUrl, options);
  if (engine === null) throw new Error(UNSUPPORTED);
  const Hls = await (options.loadHls ?? defaultLoadHls)();
  if (Hls.isSupported()) return attachHlsJs(Hls, video, masterUrl, options);
  if (video.canPlayType(HLS_MIME)) return attachNative(video, masterUrl, options);
  throw new Error(UNSUPPORTED);
}

const UNSUPPORTED = "This browser cannot play HLS: neither Media Source Extensions nor native HLS are available";

async function defaultLoadHls(): Promise<typeof HlsType> {
  const mod = await import("hls.js");
  // CJS interop: the class may sit on `default` twice over.
  const candidate = (mod as unknown as { default: typeof HlsType & { default?: typeof HlsType } }).default;
  return candidate.default ?? candidate;
}

function createEmitter<T>() {
  const listeners = new Set<(value: T) => void>();
  return {
    on(listener: (value: T) => void) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    emit(value: T) {
      for (const listener of listeners) listener(value);
    },
    clear() {
      listeners.clear();
    },
  };
}

/**
 * hls.js settings for Reelkit's playlists. A video that is still processing has EVENT playlists
 * without EXT-X-ENDLIST yet, which hls.js treats as live: it would start near the live edge, and
 * whenever the playhead stands outside the playlist it knows while the buffer runs low (at the
 * growing end, or after switching to a rung that has published less) it seeks to its live sync
 * point, three target durations behind the edge, i.e. backwards. A growing video is VOD still
 * being written: it starts at 0 and never seeks on its own; at the end of what exists it waits
 * for the next segment like any VOD player waits for data. hls.js keeps reloading the playlist
 * (every target duration, half of it when nothing changed) until EXT-X-ENDLIST arrives.
 */
export function growingVodConfig(Hls: typeof HlsType): Partial<HlsConfig> {
  const config: Partial<HlsConfig> = {
    startPosition: 0,
    // No playback-rate catch-up towards an edge.
    maxLiveSyncPlaybackRate: 1,
    // The element's duration is the part that exists (it grows with the playlist), not Infinity:
    // a growing video is seekable everywhere it has been written.
    liveDurationInfinity: false,
  };
  const Latency = Hls.DefaultConfig.latencyController;
  if (Latency) {
    // hls.js seeks to `liveSyncPosition` (start, stalls, level switches): without one it loads
    // from where the playhead is, as it does for VOD.
    config.latencyController = class GrowingVodLatency extends Latency {
      override get liveSyncPosition(): number | null {
        return null;
      }
    };
  }
  return config;
}

function attachHlsJs(
  Hls: typeof HlsType,
  video: PlayerVideoElement,
  masterUrl: string,
  options: AttachPlayerOptions,
): PlayerHandle {
  const switched = createEmitter<number>();
  const loaded = createEmitter<PlayerLevel[]>();
  const errors = createEmitter<PlayerError>();
  const hls = new Hls({
    ...growingVodConfig(Hls),
    ...options.hlsConfig,
    xhrSetup: (xhr, url) => {
      const token = options.getToken?.();
      if (!token) return;
      // Headers can only be set on an opened request; hls.js sends it as it is.
      xhr.open("GET", url, true);
      xhr.setRequestHeader("authorization", `Bearer ${token}`);
    },
  });
  let playing = -1;
  let mediaRecoveries = 0;

  const levels = (): PlayerLevel[] =>
    hls.levels.map((level, index) => ({
      index,
      width: level.width,
      height: level.height,
      bitrate: level.bitrate,
      name: level.name || (level.height ? `${level.height}p` : `${Math.round(level.bitrate / 1000)} kbps`),
    }));

  hls.on(Hls.Events.MANIFEST_PARSED, () => {
    loaded.emit(levels());
    if (options.autoplay) void Promise.resolve(video.play()).catch(() => undefined);
  });
  hls.on(Hls.Events.LEVEL_SWITCHED, (_event, data) => {
    playing = data.level;
    switched.emit(data.level);
  });
  hls.on(Hls.Events.ERROR, (_event, data) => {
    // A decoding hiccup is often recoverable once; anything else is reported as it is.
    if (data.fatal && data.type === Hls.ErrorTypes.MEDIA_ERROR && mediaRecoveries < 1) {
      mediaRecoveries++;
      hls.recoverMediaError();
      return;
    }
    errors.emit({
      fatal: data.fatal,
      type: String(data.type),
      details: String(data.details),
      message: data.error?.message ?? String(data.details),
    });
  });
  hls.loadSource(masterUrl);
  hls.attachMedia(video as HTMLVideoElement);

  return {
    engine: "hls.js",
    levels,
    currentLevel: () => (playing >= 0 ? playing : hls.currentLevel),
    isAuto: () => hls.autoLevelEnabled,
    setLevel: (index) => {
      // currentLevel switches now (flushing the buffer) so the choice is visible at once.
      hls.currentLevel = index;
    },
    onLevelSwitched: switched.on,
    onLevelsLoaded: loaded.on,
    onError: errors.on,
    destroy: () => {
      switched.clear();
      loaded.clear();
      errors.clear();
      hls.destroy();
    },
  };
}

function attachNative(video: PlayerVideoElement, masterUrl: string, options: AttachPlayerOptions): PlayerHandle {
  const errors = createEmitter<PlayerError>();
  const onError = () => {
    const mediaError = (video as Partial<HTMLVideoElement>).error;
    errors.emit({
      fatal: true,
      type: "mediaError",
      details: mediaError ? `MEDIA_ERR_${mediaError.code}` : "unknown",
      message: mediaError?.message || "The video could not be played",
    });
  };
  video.addEventListener("error", onError);
  video.src = masterUrl;
  if (options.autoplay) void Promise.resolve(video.play()).catch(() => undefined);
  return {
    engine: "native",
    levels: () => [],
    currentLevel: () => -1,
    isAuto: () => true,
    // The browser chooses levels itself with native HLS; manual choice is not available.
    setLevel: () => undefined,
    onLevelSwitched: () => () => undefined,
    onLevelsLoaded: () => () => undefined,
    onError: errors.on,
    destroy: () => {
      errors.clear();
      video.removeEventListener("error", onError);
      video.removeAttribute("src");
      video.load();
    },
  };
}
