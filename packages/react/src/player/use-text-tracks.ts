import { type RefObject, useCallback, useEffect, useRef, useState } from "react";

export interface CaptionTrack {
  /** Position in the video element's TextTrackList. */
  index: number;
  label: string;
  language: string;
}

export interface TextTracksState {
  tracks: CaptionTrack[];
  /** Index of the showing track, or -1 for captions off. */
  active: number;
  select(index: number): void;
  /** The `c` shortcut: off when on; otherwise back to the last track used (or the first). */
  toggle(): void;
}

const isCaptionTrack = (track: TextTrack) => track.kind === "captions" || track.kind === "subtitles";

/**
 * Captions and subtitles as the browser sees them: `<track>` children and the tracks hls.js (or
 * native HLS) creates from the master playlist all land in `video.textTracks`, so one list covers
 * both. Choosing a track sets TextTrack modes; hls.js follows mode changes to load that track.
 */
export function useTextTracks(videoRef: RefObject<HTMLVideoElement | null>, resetKey: string): TextTracksState {
  const [tracks, setTracks] = useState<CaptionTrack[]>([]);
  const [active, setActive] = useState(-1);
  const lastUsed = useRef(-1);

  const list = useCallback((): TextTrack[] => {
    const textTracks = videoRef.current?.textTracks;
    if (!textTracks) return [];
    return Array.from({ length: textTracks.length }, (_, i) => textTracks[i] as TextTrack);
  }, [videoRef]);

  const refresh = useCallback(() => {
    const all = list();
    setTracks(
      all.flatMap((track, index) =>
        isCaptionTrack(track)
          ? [{ index, label: track.label || track.language || `Track ${index + 1}`, language: track.language }]
          : [],
      ),
    );
    const showing = all.findIndex((track) => isCaptionTrack(track) && track.mode === "showing");
    setActive(showing);
    if (showing >= 0) lastUsed.current = showing;
  }, [list]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: resetKey re-reads the list when the <track> children change
  useEffect(() => {
    const textTracks = videoRef.current?.textTracks;
    refresh();
    // jsdom and some embedded browsers expose a plain array here, without events.
    if (!textTracks || typeof textTracks.addEventListener !== "function") return;
    const events = ["addtrack", "removetrack", "change"] as const;
    for (const name of events) textTracks.addEventListener(name, refresh);
    return () => {
      for (const name of events) textTracks.removeEventListener(name, refresh);
    };
  }, [videoRef, refresh, resetKey]);

  const select = useCallback(
    (index: number) => {
      list().forEach((track, i) => {
        if (isCaptionTrack(track)) track.mode = i === index ? "showing" : "disabled";
      });
      refresh();
    },
    [list, refresh],
  );

  const toggle = useCallback(() => {
    if (active >= 0) return select(-1);
    const all = list();
    const remembered = all[lastUsed.current];
    const fallback = all.findIndex(isCaptionTrack);
    select(remembered && isCaptionTrack(remembered) ? lastUsed.current : fallback);
  }, [active, list, select]);

  return { tracks, active, select, toggle };
}
