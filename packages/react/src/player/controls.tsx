import type { PlayerLevel } from "@reelkit/sdk";
import { formatTime } from "./format-time.js";
import {
  CaptionsIcon,
  ExitFullscreenIcon,
  FullscreenIcon,
  MutedIcon,
  PauseIcon,
  PictureInPictureIcon,
  PlayIcon,
  VolumeIcon,
} from "./icons.js";
import { MenuButton } from "./menu-button.js";
import type { UsePlayerResult } from "./use-player.js";
import { DEFAULT_PLAYBACK_RATES, type PlayerControls } from "./use-player-controls.js";

/**
 * The parts of the default skin, each a thin view over `usePlayer` (and `usePlayerControls`
 * for the menus and full screen). A custom skin can reuse any of them or none.
 */
export interface PlayerPartProps {
  player: UsePlayerResult;
}
export interface MenuPartProps extends PlayerPartProps {
  controls: Pick<PlayerControls, "openMenu" | "setOpenMenu">;
}

export function PlayButton({ player }: PlayerPartProps) {
  const { paused } = player.state;
  return (
    <button
      type="button"
      className="rk-control"
      aria-label={paused ? "Play" : "Pause"}
      onClick={player.actions.togglePlay}
    >
      {paused ? <PlayIcon /> : <PauseIcon />}
    </button>
  );
}

export function VolumeControl({ player }: PlayerPartProps) {
  const { muted, volume } = player.state;
  return (
    <div className="rk-volume">
      <button
        type="button"
        className="rk-control"
        aria-label={muted ? "Unmute" : "Mute"}
        onClick={player.actions.toggleMute}
      >
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
        onChange={(e) => player.actions.setVolume(Number(e.currentTarget.value))}
        // Arrows adjust the volume here; they must not also seek or change it a second time.
        onKeyDown={(e) => e.key.startsWith("Arrow") && e.stopPropagation()}
      />
    </div>
  );
}

export function TimeDisplay({ player }: PlayerPartProps) {
  const { currentTime, duration } = player.state;
  return (
    <span className="rk-time">
      <span className="rk-time-current">{formatTime(currentTime)}</span>
      <span className="rk-time-separator" aria-hidden="true">
        {" / "}
      </span>
      <span className="rk-visually-hidden"> of </span>
      <span className="rk-time-total">{formatTime(duration)}</span>
    </span>
  );
}

const rateLabel = (rate: number) => `${rate}×`;

export function SpeedMenu({
  player,
  controls,
  playbackRates = DEFAULT_PLAYBACK_RATES,
}: MenuPartProps & { playbackRates?: readonly number[] }) {
  const { playbackRate } = player.state;
  if (playbackRates.length === 0) return null;
  return (
    <MenuButton
      className="rk-speed"
      // The name contains the visible text (WCAG 2.5.3, label in name).
      label={`Playback speed: ${rateLabel(playbackRate)}`}
      menuLabel="Playback speed"
      open={controls.openMenu === "speed"}
      onOpenChange={(open) => controls.setOpenMenu(open ? "speed" : null)}
      items={playbackRates.map((rate) => ({
        key: String(rate),
        label: rate === 1 ? "Normal" : rateLabel(rate),
        checked: rate === playbackRate,
        onSelect: () => player.actions.setPlaybackRate(rate),
      }))}
    >
      {rateLabel(playbackRate)}
    </MenuButton>
  );
}

/** Lists the text tracks (caption props and the stream's subtitles); renders nothing without any. */
export function CaptionsMenu({ player, controls }: MenuPartProps) {
  const text = player.captions;
  if (text.tracks.length === 0) return null;
  const active = text.tracks.find((t) => t.index === text.active);
  return (
    <MenuButton
      className="rk-captions"
      label={`Captions: ${active ? active.label : "Off"}`}
      menuLabel="Captions"
      open={controls.openMenu === "captions"}
      onOpenChange={(open) => controls.setOpenMenu(open ? "captions" : null)}
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
      <span className="rk-cc" data-on={active ? true : undefined}>
        <CaptionsIcon />
      </span>
    </MenuButton>
  );
}

const levelLabel = (l: PlayerLevel) => l.name || `${l.height}p`;

/** Auto plus each rung, highest first; renders nothing with native HLS (the browser chooses). */
export function QualityMenu({ player, controls }: MenuPartProps) {
  const { levels, currentLevel, autoLevel } = player.state;
  if (levels.length === 0) return null;
  const playing = levels[currentLevel];
  const text = autoLevel
    ? `Auto${playing ? ` (${levelLabel(playing)})` : ""}`
    : ((playing && levelLabel(playing)) ?? "—");
  return (
    <MenuButton
      className="rk-quality"
      label={`Quality: ${text}`}
      menuLabel="Quality"
      open={controls.openMenu === "quality"}
      onOpenChange={(open) => controls.setOpenMenu(open ? "quality" : null)}
      items={[
        { key: "auto", label: "Auto", checked: autoLevel, onSelect: () => player.actions.setLevel(-1) },
        // Highest first, as viewers expect; hls.js orders levels by bitrate, lowest first.
        ...[...levels]
          .sort((a, b) => b.height - a.height || b.bitrate - a.bitrate)
          .map((l) => ({
            key: String(l.index),
            label: levelLabel(l),
            checked: !autoLevel && currentLevel === l.index,
            playing: currentLevel === l.index,
            onSelect: () => player.actions.setLevel(l.index),
          })),
      ]}
    >
      {text}
    </MenuButton>
  );
}

/** Renders nothing where the browser has no picture-in-picture. */
export function PictureInPictureButton({ player }: PlayerPartProps) {
  const { pictureInPicture, pictureInPictureAvailable } = player.state;
  if (!pictureInPictureAvailable) return null;
  return (
    <button
      type="button"
      className="rk-control rk-pip"
      aria-label={pictureInPicture ? "Exit picture-in-picture" : "Picture-in-picture"}
      aria-pressed={pictureInPicture}
      onClick={() => void player.actions.togglePictureInPicture().catch(() => undefined)}
    >
      <PictureInPictureIcon />
    </button>
  );
}

export function FullscreenButton({ controls }: { controls: Pick<PlayerControls, "fullscreen" | "toggleFullscreen"> }) {
  return (
    <button
      type="button"
      className="rk-control"
      aria-label={controls.fullscreen ? "Exit full screen" : "Full screen"}
      onClick={controls.toggleFullscreen}
    >
      {controls.fullscreen ? <ExitFullscreenIcon /> : <FullscreenIcon />}
    </button>
  );
}
