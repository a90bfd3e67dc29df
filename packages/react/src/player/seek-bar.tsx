import { findStoryboardCue, type StoryboardCue } from "@reelkit/sdk";
import { type CSSProperties, type KeyboardEvent, type PointerEvent, useRef, useState } from "react";
import { formatTime } from "./format-time.js";

/** A named part of the video, from `startTime` to the next chapter's. */
export interface Chapter {
  title: string;
  /** Seconds. */
  startTime: number;
}

/** The chapter playing at `time`, or null before the first one. */
export function chapterAt(chapters: readonly Chapter[] | undefined, time: number): Chapter | null {
  let found: Chapter | null = null;
  for (const chapter of chapters ?? []) {
    if (chapter.startTime <= time && (!found || chapter.startTime >= found.startTime)) found = chapter;
  }
  return found;
}

export interface SeekBarProps {
  currentTime: number;
  /** Seconds; 0 while unknown. */
  duration: number;
  /** End of the buffered range around the playhead, in seconds. */
  bufferedEnd: number;
  /**
   * How much of the video exists, in seconds, when less than `duration`: a video that is still
   * processing. The rail shows it and seeks stop there. Default (or 0, unknown): all of it.
   */
  writtenEnd?: number;
  /** Storyboard cues for thumbnails; null when the video has none. */
  storyboard: StoryboardCue[] | null;
  /** Chapter markers on the rail; the preview names the chapter. */
  chapters?: readonly Chapter[];
  onSeek(time: number): void;
}

const clamp = (value: number, min: number, max: number) => Math.min(max, Math.max(min, value));

/**
 * The seek slider (WAI-ARIA slider: ←/→ ∓5 s, PageDown/PageUp ∓10 s, Home/End). Hovering,
 * dragging or stepping with the keyboard shows a preview with the storyboard tile and time.
 */
export function SeekBar(props: SeekBarProps) {
  const { currentTime, duration, bufferedEnd, storyboard, chapters } = props;
  const track = useRef<HTMLDivElement>(null);
  const [preview, setPreview] = useState<number | null>(null);
  const dragging = useRef(false);
  const known = duration > 0;
  // A growing video: the part that exists so far, at least what plays now.
  const written =
    props.writtenEnd !== undefined && props.writtenEnd > 0 && props.writtenEnd < duration - 0.5
      ? Math.max(props.writtenEnd, currentTime)
      : null;
  const onSeek = (time: number) => props.onSeek(written === null ? time : Math.min(time, written));

  const timeAt = (clientX: number) => {
    const rect = track.current?.getBoundingClientRect();
    if (!rect || rect.width <= 0 || !known) return 0;
    return clamp((clientX - rect.left) / rect.width, 0, 1) * duration;
  };

  const onPointerDown = (e: PointerEvent<HTMLDivElement>) => {
    if (!known || e.button !== 0) return;
    dragging.current = true;
    e.currentTarget.setPointerCapture?.(e.pointerId);
    const time = timeAt(e.clientX);
    setPreview(time);
    onSeek(time);
  };
  const onPointerMove = (e: PointerEvent<HTMLDivElement>) => {
    if (!known) return;
    const time = timeAt(e.clientX);
    setPreview(time);
    if (dragging.current) onSeek(time);
  };
  const endDrag = (e: PointerEvent<HTMLDivElement>) => {
    dragging.current = false;
    e.currentTarget.releasePointerCapture?.(e.pointerId);
  };

  const onKeyDown = (e: KeyboardEvent) => {
    const steps: Record<string, number> = {
      ArrowLeft: currentTime - 5,
      ArrowDown: currentTime - 5,
      ArrowRight: currentTime + 5,
      ArrowUp: currentTime + 5,
      PageDown: currentTime - 10,
      PageUp: currentTime + 10,
      Home: 0,
      End: duration,
    };
    const target = steps[e.key];
    if (target === undefined || !known) return;
    e.preventDefault();
    // The slider owns these keys; the player's own arrow shortcuts must not seek a second time.
    e.stopPropagation();
    const time = clamp(target, 0, duration);
    setPreview(time);
    onSeek(time);
  };

  const percent = (t: number) => `${known ? clamp((t / duration) * 100, 0, 100) : 0}%`;
  const cue = preview !== null && storyboard ? findStoryboardCue(storyboard, preview) : null;
  const chapterNow = chapterAt(chapters, currentTime);
  const chapterPreviewed = preview === null ? null : chapterAt(chapters, preview);

  return (
    <div
      ref={track}
      className="rk-seek"
      role="slider"
      tabIndex={0}
      aria-label="Seek"
      aria-valuemin={0}
      aria-valuemax={Math.round(duration)}
      aria-valuenow={Math.round(clamp(currentTime, 0, duration))}
      aria-valuetext={
        `${formatTime(currentTime)} of ${formatTime(duration)}` +
        (written === null ? "" : `, ${formatTime(written)} processed so far`) +
        (chapterNow ? `, ${chapterNow.title}` : "")
      }
      aria-disabled={!known || undefined}
      onPointerDown={onPointerDown}
      onPointerMove={onPointerMove}
      onPointerUp={endDrag}
      onPointerCancel={endDrag}
      onPointerLeave={() => !dragging.current && setPreview(null)}
      onKeyDown={onKeyDown}
      onBlur={() => setPreview(null)}
    >
      <div className="rk-seek-rail" data-growing={written === null ? undefined : ""}>
        {written !== null && (
          <div className="rk-seek-written" style={{ width: percent(written) }} data-testid="seek-written" />
        )}
        <div className="rk-seek-buffered" style={{ width: percent(bufferedEnd) }} />
        <div className="rk-seek-played" style={{ width: percent(currentTime) }} />
        {known &&
          chapters
            ?.filter((c) => c.startTime > 0 && c.startTime < duration)
            .map((c) => (
              <div
                key={`${c.startTime}:${c.title}`}
                className="rk-seek-chapter"
                style={{ left: percent(c.startTime) }}
                data-testid="chapter-marker"
              />
            ))}
        <div className="rk-seek-thumb" style={{ left: percent(currentTime) }} />
      </div>
      {preview !== null && (
        <div
          className="rk-seek-preview"
          style={{ "--rk-preview-x": percent(preview) } as CSSProperties}
          aria-hidden="true"
          data-testid="seek-preview"
        >
          {cue &&
            (cue.region ? (
              <div
                className="rk-seek-image"
                style={{
                  width: `${cue.region.width}px`,
                  height: `${cue.region.height}px`,
                  backgroundImage: `url(${JSON.stringify(cue.url)})`,
                  backgroundPosition: `${-cue.region.x}px ${-cue.region.y}px`,
                }}
              />
            ) : (
              <img className="rk-seek-image" src={cue.url} alt="" />
            ))}
          {chapterPreviewed && <span className="rk-seek-chapter-title">{chapterPreviewed.title}</span>}
          <span className="rk-seek-time">{formatTime(preview)}</span>
        </div>
      )}
    </div>
  );
}
