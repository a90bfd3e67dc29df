import { type AttachPlayerOptions, attachPlayer, type PlayerHandle, type PlayerLevel } from "@reelkit/sdk";
import { type KeyboardEvent, useEffect, useRef, useState } from "react";
import { useVideo } from "./use-video.js";

export interface VideoPlayerProps {
  /** A catalog video id (needs <ReelkitProvider>) … */
  videoId?: string;
  /** … or an HLS master playlist URL. */
  src?: string;
  poster?: string;
  autoPlay?: boolean;
  className?: string;
  /** Injected player factory; defaults to the sdk's `attachPlayer`. */
  attach?: typeof attachPlayer;
  playerOptions?: AttachPlayerOptions;
}

/** Adaptive HLS player with a quality menu, keyboard shortcuts and fullscreen. */
export function VideoPlayer(props: VideoPlayerProps) {
  if (props.videoId) return <CatalogPlayer {...props} videoId={props.videoId} />;
  return <HlsPlayer {...props} src={props.src ?? null} />;
}

function CatalogPlayer(props: VideoPlayerProps & { videoId: string }) {
  const { video, error } = useVideo(props.videoId);
  const notReady = video && video.status !== "READY" ? `This video is ${video.status.toLowerCase()}` : null;
  return (
    <HlsPlayer
      {...props}
      src={video?.playbackUrl ?? null}
      poster={props.poster ?? video?.posterUrl ?? undefined}
      externalError={
        error?.message ?? (video?.status === "FAILED" ? (video.failureReason ?? "Processing failed") : null)
      }
      waitingMessage={notReady}
    />
  );
}

interface HlsPlayerProps extends Omit<VideoPlayerProps, "src"> {
  src: string | null;
  externalError?: string | null;
  waitingMessage?: string | null;
}

function HlsPlayer({
  src,
  poster,
  autoPlay,
  className,
  attach = attachPlayer,
  playerOptions,
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
  const [menuOpen, setMenuOpen] = useState(false);

  useEffect(() => {
    const video = videoRef.current;
    if (!src || !video) return;
    let cancelled = false;
    let handle: PlayerHandle | null = null;
    const unsubs: Array<() => void> = [];
    setLoading(true);
    setError(null);
    attach(video, src, { autoplay: autoPlay, ...playerOptions }).then(
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
  }, [src, attach, autoPlay, playerOptions]);

  const choose = (index: number) => {
    player.current?.setLevel(index);
    setAuto(index === -1);
    setMenuOpen(false);
  };

  const onKeyDown = (e: KeyboardEvent) => {
    const v = videoRef.current;
    if (!v || (e.target as HTMLElement).tagName === "BUTTON") return;
    const seek = (d: number) => {
      v.currentTime = Math.max(0, v.currentTime + d);
    };
    switch (e.key) {
      case " ":
      case "k":
        if (v.paused) void v.play()?.catch(() => undefined);
        else v.pause();
        break;
      case "j":
        seek(-10);
        break;
      case "l":
        seek(10);
        break;
      case "ArrowLeft":
        seek(-5);
        break;
      case "ArrowRight":
        seek(5);
        break;
      case "m":
        v.muted = !v.muted;
        break;
      case "f":
        if (document.fullscreenElement) void document.exitFullscreen?.();
        else void root.current?.requestFullscreen?.();
        break;
      default:
        return;
    }
    e.preventDefault();
  };

  const shownError = rest.externalError ?? error;
  const label = (l: PlayerLevel) => l.name || `${l.height}p`;
  return (
    <div
      ref={root}
      className={["rk-player", className].filter(Boolean).join(" ")}
      role="application"
      aria-roledescription="video player"
      aria-label="Video player"
      // biome-ignore lint/a11y/noNoninteractiveTabindex: the player takes keyboard shortcuts
      tabIndex={0}
      onKeyDown={onKeyDown}
    >
      {/* biome-ignore lint/a11y/useMediaCaption: captions are added by the stream when present */}
      <video
        ref={videoRef}
        className="rk-video"
        poster={poster}
        controls
        playsInline
        onLoadedData={() => setLoading(false)}
        onWaiting={() => setLoading(true)}
        onPlaying={() => setLoading(false)}
      />
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
      {levels.length > 0 && (
        <div className="rk-quality">
          <button
            type="button"
            className="rk-button"
            aria-haspopup="menu"
            aria-expanded={menuOpen}
            onClick={() => setMenuOpen((o) => !o)}
          >
            Quality:{" "}
            {auto
              ? `Auto${levels[current] ? ` (${label(levels[current])})` : ""}`
              : ((levels[current] && label(levels[current])) ?? "—")}
          </button>
          {menuOpen && (
            <div role="menu" aria-label="Quality" className="rk-quality-menu">
              <button type="button" role="menuitemradio" aria-checked={auto} onClick={() => choose(-1)}>
                Auto
              </button>
              {levels.map((l) => (
                <button
                  key={l.index}
                  type="button"
                  role="menuitemradio"
                  aria-checked={!auto && current === l.index}
                  data-playing={current === l.index || undefined}
                  onClick={() => choose(l.index)}
                >
                  {label(l)}
                  {current === l.index ? " ●" : ""}
                </button>
              ))}
            </div>
          )}
        </div>
      )}
    </div>
  );
}
