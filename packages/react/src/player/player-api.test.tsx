import type { attachPlayer, PlayerHandle, PlayerLevel } from "@reelkit/sdk";
import { act, fireEvent, render, renderHook, screen } from "@testing-library/react";
import { createRef } from "react";
import { describe, expect, it, vi } from "vitest";
import { VideoPlayer, type VideoPlayerHandle } from "../video-player.js";
import { usePlayer } from "./use-player.js";
import { usePlayerControls } from "./use-player-controls.js";

/** A stand-in engine: records calls, lets the test switch levels. */
function fakeEngine(levels: PlayerLevel[] = []) {
  let switched: ((i: number) => void) | undefined;
  const attach = vi.fn(async () => {
    return {
      engine: "hls.js",
      levels: () => levels,
      currentLevel: () => 0,
      isAuto: () => true,
      setLevel: vi.fn(),
      onLevelSwitched: (l: (i: number) => void) => {
        switched = l;
        return () => undefined;
      },
      onLevelsLoaded: () => () => undefined,
      onError: () => () => undefined,
      destroy: vi.fn(),
    } as unknown as PlayerHandle;
  }) as unknown as typeof attachPlayer;
  return { attach, switchTo: (i: number) => switched?.(i) };
}

const rung = (index: number, height: number): PlayerLevel => ({
  index,
  width: Math.round((height * 16) / 9),
  height,
  bitrate: height * 1000,
  name: `${height}p`,
});

function videoOf(): HTMLVideoElement {
  return screen.getByRole("region", { name: /Video player/ }).querySelector("video") as HTMLVideoElement;
}

function setDuration(video: HTMLVideoElement, seconds: number) {
  Object.defineProperty(video, "duration", { configurable: true, value: seconds });
  fireEvent.durationChange(video);
}

describe("<VideoPlayer ref>", () => {
  it("exposes an HTMLMediaElement-shaped handle over the video element", async () => {
    const ref = createRef<VideoPlayerHandle>();
    const { attach } = fakeEngine();
    render(<VideoPlayer ref={ref} src="http://x/m.m3u8" attach={attach} metadata={{ video_id: "v1" }} />);
    const video = videoOf();
    const handle = ref.current as VideoPlayerHandle;
    expect(handle.media).toBe(video);
    const play = vi.fn(async () => undefined);
    video.play = play;
    await handle.play();
    expect(play).toHaveBeenCalledTimes(1);
    video.pause = vi.fn();
    handle.pause();
    expect(video.pause).toHaveBeenCalledTimes(1);
    handle.currentTime = 12;
    expect(video.currentTime).toBe(12);
    expect(handle.currentTime).toBe(12);
    handle.muted = true;
    expect(video.muted).toBe(true);
    handle.volume = 0.25;
    expect(handle.volume).toBe(0.25);
    handle.playbackRate = 1.5;
    expect(video.playbackRate).toBe(1.5);
    expect(handle.paused).toBe(true);
    setDuration(video, 30);
    expect(handle.duration).toBe(30);
    expect(handle.metadata).toEqual({ video_id: "v1" });
    video.requestPictureInPicture = vi.fn(async () => ({}) as PictureInPictureWindow);
    await handle.requestPictureInPicture();
    expect(video.requestPictureInPicture).toHaveBeenCalledTimes(1);
  });

  it("passes every media event through to its prop", async () => {
    const { attach } = fakeEngine();
    const seen: string[] = [];
    const on = (name: string) => () => void seen.push(name);
    render(
      <VideoPlayer
        src="http://x/m.m3u8"
        attach={attach}
        onPlay={on("play")}
        onPause={on("pause")}
        onEnded={on("ended")}
        onTimeUpdate={on("timeupdate")}
        onSeeking={on("seeking")}
        onWaiting={on("waiting")}
        onError={on("error")}
        onLoadedMetadata={on("loadedmetadata")}
        onRateChange={on("ratechange")}
        onVolumeChange={on("volumechange")}
      />,
    );
    const video = videoOf();
    for (const name of [
      "play",
      "pause",
      "ended",
      "timeupdate",
      "seeking",
      "waiting",
      "error",
      "loadedmetadata",
      "ratechange",
      "volumechange",
    ]) {
      fireEvent(video, new Event(name));
    }
    expect(seen).toEqual([
      "play",
      "pause",
      "ended",
      "timeupdate",
      "seeking",
      "waiting",
      "error",
      "loadedmetadata",
      "ratechange",
      "volumechange",
    ]);
  });

  it("reports quality changes from the engine and from the menu", async () => {
    const { attach, switchTo } = fakeEngine([rung(0, 240), rung(1, 480)]);
    const onQualityChange = vi.fn();
    render(<VideoPlayer src="http://x/m.m3u8" attach={attach} onQualityChange={onQualityChange} />);
    await screen.findByRole("button", { name: /^Quality/ });
    act(() => switchTo(1));
    expect(onQualityChange).toHaveBeenLastCalledWith({ level: rung(1, 480), auto: true });
    fireEvent.click(screen.getByRole("button", { name: /^Quality/ }));
    fireEvent.click(screen.getByRole("menuitemradio", { name: "240p" }));
    expect(onQualityChange).toHaveBeenLastCalledWith({ level: rung(0, 240), auto: false });
  });
});

describe("<VideoPlayer> props", () => {
  it("applies loop, preload, playsInline, crossOrigin, muted, startTime and playbackRate", async () => {
    const { attach } = fakeEngine();
    render(
      <VideoPlayer
        src="http://x/m.m3u8"
        attach={attach}
        loop
        preload="auto"
        crossOrigin="anonymous"
        muted
        startTime={7}
        playbackRate={1.25}
        title="Big Buck Bunny"
      />,
    );
    expect(screen.getByRole("region", { name: "Video player: Big Buck Bunny" })).toBeInTheDocument();
    const video = videoOf();
    expect(video.loop).toBe(true);
    expect(video.getAttribute("preload")).toBe("auto");
    expect(video.getAttribute("crossorigin")).toBe("anonymous");
    expect(video.hasAttribute("playsinline")).toBe(true);
    expect(video.muted).toBe(true);
    expect(video.playbackRate).toBe(1.25);
    fireEvent.loadedMetadata(video);
    expect(video.currentTime).toBe(7);
    // Once per source: a second loadedmetadata (a quality switch with native HLS) does not rewind.
    video.currentTime = 20;
    fireEvent.loadedMetadata(video);
    expect(video.currentTime).toBe(20);
  });

  it("has the video's shape from the first render and takes the accent colour", () => {
    const { attach } = fakeEngine();
    const { rerender } = render(<VideoPlayer src="http://x/m.m3u8" attach={attach} accentColor="#0af" />);
    const region = screen.getByRole("region", { name: "Video player" });
    expect(region.style.getPropertyValue("--rk-aspect-ratio")).toBe(String(16 / 9));
    expect(region.style.getPropertyValue("--rk-accent")).toBe("#0af");
    rerender(<VideoPlayer src="http://x/m.m3u8" attach={attach} aspectRatio="4 / 3" />);
    expect(region.style.getPropertyValue("--rk-aspect-ratio")).toBe("4 / 3");
  });

  it("autoplays muted when the browser refuses sound, and offers to unmute", async () => {
    const { attach } = fakeEngine();
    const attempts: boolean[] = [];
    const play = vi.fn(function (this: HTMLVideoElement) {
      attempts.push(this.muted);
      if (!this.muted) return Promise.reject(new DOMException("no gesture", "NotAllowedError"));
      return Promise.resolve();
    });
    vi.spyOn(HTMLMediaElement.prototype, "play").mockImplementation(play);
    // Metadata known: autoplay starts at once rather than on loadedmetadata.
    vi.spyOn(HTMLMediaElement.prototype, "readyState", "get").mockReturnValue(1);
    render(<VideoPlayer src="http://x/m.m3u8" attach={attach} autoPlay="any" />);
    const unmute = await screen.findByRole("button", { name: "Tap to unmute" });
    expect(attempts).toEqual([false, true]);
    expect(videoOf().muted).toBe(true);
    fireEvent.click(unmute);
    expect(videoOf().muted).toBe(false);
    expect(screen.queryByRole("button", { name: "Tap to unmute" })).not.toBeInTheDocument();
    vi.restoreAllMocks();
  });

  it('autoPlay="muted" starts muted without trying sound first', async () => {
    const { attach } = fakeEngine();
    const attempts: boolean[] = [];
    vi.spyOn(HTMLMediaElement.prototype, "play").mockImplementation(function (this: HTMLMediaElement) {
      attempts.push(this.muted);
      return Promise.resolve();
    });
    render(<VideoPlayer src="http://x/m.m3u8" attach={attach} autoPlay="muted" />);
    // Autoplay waits for the media's metadata.
    await vi.waitFor(() => expect(attach).toHaveBeenCalled());
    await act(async () => undefined);
    expect(attempts).toEqual([]);
    fireEvent.loadedMetadata(videoOf());
    await vi.waitFor(() => expect(attempts).toEqual([true]));
    vi.restoreAllMocks();
  });

  it("marks chapters on the seek bar and names the one playing", () => {
    const { attach } = fakeEngine();
    const chapters = [
      { title: "Intro", startTime: 0 },
      { title: "Middle", startTime: 10 },
      { title: "End", startTime: 20 },
    ];
    render(<VideoPlayer src="http://x/m.m3u8" attach={attach} chapters={chapters} />);
    const video = videoOf();
    setDuration(video, 30);
    expect(screen.getAllByTestId("chapter-marker")).toHaveLength(2);
    video.currentTime = 12;
    fireEvent.timeUpdate(video);
    expect(screen.getByRole("slider", { name: "Seek" })).toHaveAttribute("aria-valuetext", "0:12 of 0:30, Middle");
  });

  it("changes speed from the menu; no captions menu without text tracks", async () => {
    const { attach } = fakeEngine();
    render(<VideoPlayer src="http://x/m.m3u8" attach={attach} />);
    expect(screen.queryByRole("button", { name: /^Captions/ })).not.toBeInTheDocument();
    fireEvent.click(screen.getByRole("button", { name: "Playback speed: 1×" }));
    fireEvent.click(screen.getByRole("menuitemradio", { name: "1.5×" }));
    expect(videoOf().playbackRate).toBe(1.5);
    fireEvent.rateChange(videoOf());
    expect(screen.getByRole("button", { name: "Playback speed: 1.5×" })).toBeInTheDocument();
  });
});

describe("usePlayer + usePlayerControls", () => {
  function setup() {
    const video = document.createElement("video");
    const root = document.createElement("div");
    Object.defineProperty(video, "duration", { configurable: true, value: 100 });
    const { attach } = fakeEngine();
    const hook = renderHook(() => {
      const player = usePlayer({ src: null, attach });
      // The element a skin would render, given to the hook before its effects read it.
      player.mediaRef.current = video;
      const controls = usePlayerControls(player, { rootRef: { current: root } });
      return { player, controls };
    });
    const key = (k: string) =>
      act(() =>
        hook.result.current.controls.onKeyDown({
          key: k,
          target: root,
          preventDefault: () => undefined,
        } as unknown as React.KeyboardEvent),
      );
    return { video, hook, key };
  }

  it("↑/↓ change the volume in 5 % steps; 0–9 jump to tenths of the video", () => {
    const { video, key, hook } = setup();
    video.volume = 0.5;
    key("ArrowUp");
    expect(video.volume).toBeCloseTo(0.55);
    key("ArrowDown");
    key("ArrowDown");
    expect(video.volume).toBeCloseTo(0.45);
    expect(hook.result.current.player.state.volume).toBeCloseTo(0.45);
    // The duration comes from the element's events.
    act(() => hook.result.current.player.mediaProps.onDurationChange?.({ currentTarget: video } as never));
    key("3");
    expect(video.currentTime).toBe(30);
    key("0");
    expect(video.currentTime).toBe(0);
  });

  it("< and > step through the playback rates; menus open one at a time", () => {
    const { video, key, hook } = setup();
    key(">");
    expect(video.playbackRate).toBe(1.25);
    key("<");
    key("<");
    expect(video.playbackRate).toBe(0.75);
    act(() => hook.result.current.controls.setOpenMenu("speed"));
    expect(hook.result.current.controls.openMenu).toBe("speed");
    act(() => hook.result.current.controls.setOpenMenu("quality"));
    expect(hook.result.current.controls.openMenu).toBe("quality");
  });
});
