import { type attachPlayer, createReelkitClient, type PlayerHandle, type PlayerLevel, type Video } from "@reelkit/sdk";
import { act, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ReelkitProvider } from "./context.js";
import { VideoPlayer } from "./video-player.js";

function fakeAttach(levels: PlayerLevel[]) {
  const log: string[] = [];
  let switched: ((i: number) => void) | undefined;
  let current = 0;
  const attach: typeof attachPlayer = async (_video, url) => {
    log.push(`attach ${url}`);
    const handle = {
      engine: "hls.js",
      levels: () => levels,
      currentLevel: () => current,
      isAuto: () => true,
      setLevel: (i: number) => {
        log.push(`setLevel ${i}`);
        if (i >= 0) current = i;
        switched?.(current);
      },
      onLevelSwitched: (l: (i: number) => void) => {
        switched = l;
        return () => void log.push("unsubscribe levelSwitched");
      },
      onLevelsLoaded: () => () => void log.push("unsubscribe levelsLoaded"),
      onError: () => () => void log.push("unsubscribe error"),
      destroy: () => void log.push("destroy"),
    } as unknown as PlayerHandle;
    return handle;
  };
  return { attach, log };
}

const rung = (index: number, height: number): PlayerLevel =>
  ({ index, width: (height * 16) / 9, height, bitrate: height * 1000, name: `${height}p` }) as PlayerLevel;

describe("<VideoPlayer>", () => {
  it("lists Auto plus each rung, marks the playing one, switches level and tears down", async () => {
    const { attach, log } = fakeAttach([rung(0, 240), rung(1, 480)]);
    const { unmount } = render(<VideoPlayer src="http://x/master.m3u8" attach={attach} />);
    const button = await screen.findByRole("button", { name: /Quality: Auto \(240p\)/ });
    fireEvent.click(button);
    const items = screen.getAllByRole("menuitemradio");
    // Highest rung first, whatever order the player reports them in.
    expect(items.map((i) => i.textContent)).toEqual(["Auto", "480p", "240p"]);
    expect(items[0]).toHaveAttribute("aria-checked", "true");
    fireEvent.click(items[1] as HTMLElement);
    await waitFor(() => expect(screen.getByRole("button", { name: "Quality: 480p" })).toBeInTheDocument());
    expect(log).toEqual(["attach http://x/master.m3u8", "setLevel 1"]);
    unmount();
    expect(log.slice(2)).toEqual([
      "unsubscribe levelsLoaded",
      "unsubscribe levelSwitched",
      "unsubscribe error",
      "destroy",
    ]);
  });

  it("shows loading, then an error when the player cannot start", async () => {
    const attach: typeof attachPlayer = async () => {
      throw new Error("This browser cannot play HLS");
    };
    render(<VideoPlayer src="http://x/master.m3u8" attach={attach} />);
    expect(screen.getByRole("status")).toHaveTextContent("Loading");
    expect(await screen.findByRole("alert")).toHaveTextContent("cannot play HLS");
  });

  it("handles keyboard shortcuts for play, seek and mute", async () => {
    const { attach } = fakeAttach([]);
    render(<VideoPlayer src="http://x/master.m3u8" attach={attach} />);
    const region = screen.getByRole("region", { name: "Video player" });
    const video = region.querySelector("video") as HTMLVideoElement;
    let plays = 0;
    video.play = async () => {
      plays++;
    };
    video.currentTime = 20;
    await act(async () => {
      fireEvent.keyDown(region, { key: "k" });
      fireEvent.keyDown(region, { key: " " });
    });
    expect(plays).toBe(2);
    fireEvent.keyDown(region, { key: "j" });
    expect(video.currentTime).toBe(10);
    fireEvent.keyDown(region, { key: "ArrowRight" });
    expect(video.currentTime).toBe(15);
    fireEvent.keyDown(region, { key: "m" });
    expect(video.muted).toBe(true);
  });

  it("plays once the source has opened when play was pressed while it was still opening", async () => {
    const { attach } = fakeAttach([]);
    render(<VideoPlayer src="http://x/master.m3u8" attach={attach} />);
    const region = screen.getByRole("region", { name: "Video player" });
    const video = region.querySelector("video") as HTMLVideoElement;
    let readyState = 0;
    Object.defineProperty(video, "readyState", { get: () => readyState });
    const plays: string[] = [];
    // What Chromium answers a play() during the engine's first load.
    video.play = async () => {
      plays.push(readyState >= 1 ? "played" : "aborted");
      if (readyState < 1)
        throw new DOMException("The play() request was interrupted by a new load request.", "AbortError");
    };
    await act(async () => {
      fireEvent.keyDown(region, { key: "k" });
    });
    expect(plays).toEqual(["aborted"]);
    readyState = 1;
    await act(async () => {
      fireEvent(video, new Event("loadedmetadata"));
    });
    expect(plays).toEqual(["aborted", "played"]);

    // Pressed twice before the source opened: the second press takes the first one back.
    readyState = 0;
    await act(async () => {
      fireEvent.keyDown(region, { key: "k" });
    });
    await act(async () => {
      fireEvent.keyDown(region, { key: "k" });
    });
    readyState = 1;
    await act(async () => {
      fireEvent(video, new Event("loadedmetadata"));
    });
    expect(plays).toEqual(["aborted", "played", "aborted"]);
  });
});

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
});

/** A storyboard map as the transcoder writes it: 1 s per tile, 10 tiles of 160×90 per row. */
function storyboardVtt(seconds: number): string {
  const ts = (s: number) => `00:00:${String(s).padStart(2, "0")}.000`;
  const cues = Array.from({ length: seconds }, (_, i) => {
    const xywh = `${(i % 10) * 160},${Math.floor(i / 10) * 90},160,90`;
    return `${ts(i)} --> ${ts(i + 1)}\nstoryboard.jpg#xywh=${xywh}\n`;
  });
  return ["WEBVTT", "", ...cues].join("\n");
}

/** Serves the storyboard through a stand-in for the global fetch; records each request's signal. */
function serveStoryboard(text: string) {
  const requests: Array<{ url: string; signal: AbortSignal | null | undefined }> = [];
  vi.stubGlobal("fetch", async (input: RequestInfo | URL, init?: RequestInit) => {
    requests.push({ url: String(input), signal: init?.signal });
    return new Response(text, { status: 200, headers: { "content-type": "text/vtt" } });
  });
  return requests;
}

function renderPlayer(props: Partial<Parameters<typeof VideoPlayer>[0]> = {}) {
  const { attach, log } = fakeAttach([rung(0, 240), rung(1, 480)]);
  const view = render(<VideoPlayer src="http://x/master.m3u8" attach={attach} {...props} />);
  const region = screen.getByRole("region", { name: "Video player" });
  const video = region.querySelector("video") as HTMLVideoElement;
  const setDuration = (seconds: number) => {
    Object.defineProperty(video, "duration", { configurable: true, value: seconds });
    fireEvent.durationChange(video);
  };
  return { ...view, region, video, log, setDuration };
}

/** jsdom lays nothing out: give the seek slider a 300 px wide box starting at x = 100. */
function layOutSlider(slider: HTMLElement) {
  slider.getBoundingClientRect = () => ({
    left: 100,
    width: 300,
    top: 0,
    height: 10,
    right: 400,
    bottom: 10,
    x: 100,
    y: 0,
    toJSON: () => ({}),
  });
  return (seconds: number, duration: number) => 100 + (300 * seconds) / duration;
}

describe("<VideoPlayer> seek bar", () => {
  it("shows the storyboard tile and time for the hovered position, and seeks on press", async () => {
    const requests = serveStoryboard(storyboardVtt(30));
    const { video, setDuration } = renderPlayer({ storyboard: "/media/videos/v1/storyboard.vtt" });
    await waitFor(() => expect(requests).toHaveLength(1));
    expect(requests[0]?.url).toBe(new URL("/media/videos/v1/storyboard.vtt", document.baseURI).href);
    setDuration(30);
    const slider = screen.getByRole("slider", { name: "Seek" });
    expect(slider).toHaveAttribute("aria-valuemax", "30");
    expect(slider).toHaveAttribute("aria-valuetext", "0:00 of 0:30");
    const x = layOutSlider(slider);

    // 13.5 s falls in cue 13: fourth tile (x = 480) of the second row (y = 90).
    await waitFor(() => {
      fireEvent.pointerMove(slider, { clientX: x(13.5, 30) });
      expect(screen.getByTestId("seek-preview").querySelector(".rk-seek-image")).not.toBeNull();
    });
    const preview = screen.getByTestId("seek-preview");
    const tile = preview.querySelector(".rk-seek-image") as HTMLElement;
    const sprite = new URL("/media/videos/v1/storyboard.jpg", document.baseURI).href;
    expect(tile.style.backgroundImage).toBe(`url(${JSON.stringify(sprite)})`);
    expect(tile.style.backgroundPosition).toBe("-480px -90px");
    expect([tile.style.width, tile.style.height]).toEqual(["160px", "90px"]);
    expect(preview).toHaveTextContent("0:13");
    expect(video.currentTime).toBe(0); // hovering alone does not seek

    fireEvent.pointerMove(slider, { clientX: x(2.2, 30) });
    expect((preview.querySelector(".rk-seek-image") as HTMLElement).style.backgroundPosition).toBe("-320px 0px");

    fireEvent.pointerLeave(slider);
    expect(screen.queryByTestId("seek-preview")).toBeNull();

    fireEvent.pointerDown(slider, { clientX: x(7.5, 30), button: 0, pointerId: 1 });
    expect(video.currentTime).toBe(7.5);
    fireEvent.pointerMove(slider, { clientX: x(21, 30), pointerId: 1 });
    expect(video.currentTime).toBe(21); // dragging seeks as it goes
    fireEvent.pointerUp(slider, { clientX: x(21, 30), pointerId: 1 });
    fireEvent.pointerMove(slider, { clientX: x(3, 30) });
    expect(video.currentTime).toBe(21);
    expect(slider).toHaveAttribute("aria-valuenow", "21");
    expect(slider).toHaveAttribute("aria-valuetext", "0:21 of 0:30");
  });

  it("is keyboard operable, previews the tile it lands on, and does not double-seek through the player shortcuts", async () => {
    const requests = serveStoryboard(storyboardVtt(30));
    const { video, setDuration } = renderPlayer({ storyboard: "http://cdn.test/sb/map.vtt" });
    await waitFor(() => expect(requests).toHaveLength(1));
    setDuration(30);
    const slider = screen.getByRole("slider", { name: "Seek" });
    slider.focus();
    fireEvent.keyDown(slider, { key: "ArrowRight" });
    expect(video.currentTime).toBe(5);
    await waitFor(() =>
      expect(
        (screen.getByTestId("seek-preview").querySelector(".rk-seek-image") as HTMLElement).style.backgroundImage,
      ).toBe('url("http://cdn.test/sb/storyboard.jpg")'),
    );
    fireEvent.keyDown(slider, { key: "PageUp" });
    expect(video.currentTime).toBe(15);
    expect(
      (screen.getByTestId("seek-preview").querySelector(".rk-seek-image") as HTMLElement).style.backgroundPosition,
    ).toBe("-800px -90px");
    fireEvent.keyDown(slider, { key: "End" });
    expect(video.currentTime).toBe(30);
    fireEvent.keyDown(slider, { key: "Home" });
    expect(video.currentTime).toBe(0);
    fireEvent.keyDown(slider, { key: "ArrowLeft" });
    expect(video.currentTime).toBe(0);
    fireEvent.blur(slider);
    expect(screen.queryByTestId("seek-preview")).toBeNull();
  });

  it("shows the time without a thumbnail when there is no storyboard", () => {
    const fetchSpy = vi.fn();
    vi.stubGlobal("fetch", fetchSpy);
    const { setDuration } = renderPlayer();
    setDuration(90);
    const slider = screen.getByRole("slider", { name: "Seek" });
    const x = layOutSlider(slider);
    fireEvent.pointerMove(slider, { clientX: x(75, 90) });
    expect(screen.getByTestId("seek-preview")).toHaveTextContent("1:15");
    expect(screen.getByTestId("seek-preview").querySelector(".rk-seek-image")).toBeNull();
    expect(fetchSpy).not.toHaveBeenCalled();
  });
});

/**
 * jsdom has no TextTrack API (video.textTracks is an empty array). This stands in for the part
 * the player uses: one TextTrack per <track> child (a `default` one starts showing, as in
 * browsers), tracks added later as hls.js does for subtitle renditions, and list events.
 */
class FakeTextTrack {
  mode: TextTrackMode;
  constructor(
    readonly kind: TextTrackKind,
    readonly label: string,
    readonly language: string,
    showing = false,
  ) {
    this.mode = showing ? "showing" : "disabled";
  }
}

class FakeTextTrackList extends EventTarget {
  readonly tracks: FakeTextTrack[] = [];
  readonly listeners = new Set<string>();
  private readonly byElement = new WeakMap<Element, FakeTextTrack>();
  [index: number]: FakeTextTrack;
  get length() {
    return this.tracks.length;
  }
  add(track: FakeTextTrack) {
    const i = this.tracks.push(track) - 1;
    Object.defineProperty(this, i, { configurable: true, get: () => this.tracks[i] });
  }
  syncWith(video: HTMLVideoElement) {
    for (const el of video.querySelectorAll("track")) {
      if (this.byElement.has(el)) continue;
      const track = new FakeTextTrack(el.kind as TextTrackKind, el.label, el.srclang, el.default);
      this.byElement.set(el, track);
      this.add(track);
    }
  }
  override addEventListener(type: string, listener: EventListenerOrEventListenerObject | null) {
    this.listeners.add(type);
    super.addEventListener(type, listener);
  }
  override removeEventListener(type: string, listener: EventListenerOrEventListenerObject | null) {
    this.listeners.delete(type);
    super.removeEventListener(type, listener);
  }
}

function fakeTextTracks() {
  const lists = new Map<HTMLMediaElement, FakeTextTrackList>();
  vi.spyOn(HTMLMediaElement.prototype, "textTracks", "get").mockImplementation(function (this: HTMLMediaElement) {
    const list = lists.get(this) ?? new FakeTextTrackList();
    lists.set(this, list);
    list.syncWith(this as HTMLVideoElement);
    return list as unknown as TextTrackList;
  });
  return (video: HTMLVideoElement) => video.textTracks as unknown as FakeTextTrackList;
}

const captions = [
  { src: "/cc/en.vtt", srclang: "en", label: "English", default: true },
  { src: "/cc/fr.vtt", srclang: "fr", label: "Français" },
];

describe("<VideoPlayer> captions", () => {
  it("renders caption tracks, lists them with stream subtitles in a CC menu that sets track modes, and c toggles", async () => {
    const tracksOf = fakeTextTracks();
    const { video, region } = renderPlayer({ captions });
    expect(Array.from(video.querySelectorAll("track")).map((t) => [t.kind, t.srclang, t.label, t.default])).toEqual([
      ["captions", "en", "English", true],
      ["captions", "fr", "Français", false],
    ]);
    const list = tracksOf(video);
    const modes = () => list.tracks.map((t) => `${t.label}:${t.mode}`);

    // hls.js creates a text track per subtitle rendition of the master playlist.
    act(() => {
      list.add(new FakeTextTrack("subtitles", "Deutsch", "de"));
      list.add(new FakeTextTrack("metadata", "id3", ""));
      list.dispatchEvent(new Event("addtrack"));
    });
    const button = screen.getByRole("button", { name: "Captions: English" });
    fireEvent.click(button);
    const menu = screen.getByRole("menu", { name: "Captions" });
    const items = screen.getAllByRole("menuitemradio");
    expect(items.map((i) => [i.textContent, i.getAttribute("aria-checked")])).toEqual([
      ["Off", "false"],
      ["English", "true"],
      ["Français", "false"],
      ["Deutsch", "false"],
    ]);
    // The checked item has focus; arrows move it; Escape closes and returns to the button.
    expect(items[1]).toHaveFocus();
    fireEvent.keyDown(menu, { key: "ArrowDown" });
    expect(items[2]).toHaveFocus();
    fireEvent.keyDown(menu, { key: "Escape" });
    expect(screen.queryByRole("menu")).toBeNull();
    expect(button).toHaveFocus();

    fireEvent.click(button);
    fireEvent.click(screen.getByRole("menuitemradio", { name: "Deutsch" }));
    expect(modes()).toEqual(["English:disabled", "Français:disabled", "Deutsch:showing", "id3:disabled"]);
    expect(screen.getByRole("button", { name: "Captions: Deutsch" })).toBeInTheDocument();

    fireEvent.click(screen.getByRole("button", { name: "Captions: Deutsch" }));
    fireEvent.click(screen.getByRole("menuitemradio", { name: "Off" }));
    expect(modes()).toEqual(["English:disabled", "Français:disabled", "Deutsch:disabled", "id3:disabled"]);

    // `c` brings back the last track used, then turns captions off again.
    fireEvent.keyDown(region, { key: "c" });
    expect(modes()).toEqual(["English:disabled", "Français:disabled", "Deutsch:showing", "id3:disabled"]);
    fireEvent.keyDown(region, { key: "c" });
    expect(modes()).toEqual(["English:disabled", "Français:disabled", "Deutsch:disabled", "id3:disabled"]);
    expect(screen.getByRole("button", { name: "Captions: Off" })).toBeInTheDocument();

    // A mode change made elsewhere (e.g. by the browser's own UI) is reflected.
    act(() => {
      (list.tracks[1] as FakeTextTrack).mode = "showing";
      list.dispatchEvent(new Event("change"));
    });
    expect(screen.getByRole("button", { name: "Captions: Français" })).toBeInTheDocument();
  });

  it("has no CC button when there are no caption tracks", () => {
    fakeTextTracks();
    renderPlayer();
    expect(screen.queryByRole("button", { name: /^Captions/ })).toBeNull();
  });
});

describe("<VideoPlayer> controls and shortcuts", () => {
  it("play/pause, mute and volume controls drive the video and follow its events", async () => {
    const { video } = renderPlayer();
    let plays = 0;
    video.play = async () => {
      plays++;
    };
    fireEvent.click(screen.getByRole("button", { name: "Play" }));
    expect(plays).toBe(1);
    fireEvent.play(video);
    const pause = screen.getByRole("button", { name: "Pause" });
    Object.defineProperty(video, "paused", { configurable: true, value: false });
    video.pause = () => fireEvent.pause(video);
    fireEvent.click(pause);
    expect(screen.getByRole("button", { name: "Play" })).toBeInTheDocument();

    fireEvent.click(screen.getByRole("button", { name: "Mute" }));
    expect(video.muted).toBe(true);
    expect(screen.getByRole("button", { name: "Unmute" })).toBeInTheDocument();
    const volume = screen.getByRole("slider", { name: "Volume" }) as HTMLInputElement;
    expect(volume.value).toBe("0");
    fireEvent.change(volume, { target: { value: "0.4" } });
    expect([video.volume, video.muted]).toEqual([0.4, false]);
    // Arrow keys on the volume slider are its own, not a seek.
    video.currentTime = 20;
    fireEvent.keyDown(volume, { key: "ArrowLeft" });
    expect(video.currentTime).toBe(20);
  });

  it("handles l, ←, f and c shortcuts, and leaves space to a focused button", async () => {
    fakeTextTracks();
    const { region, video } = renderPlayer({ captions });
    let plays = 0;
    video.play = async () => {
      plays++;
    };
    video.currentTime = 20;
    fireEvent.keyDown(region, { key: "l" });
    expect(video.currentTime).toBe(30);
    fireEvent.keyDown(region, { key: "ArrowLeft" });
    expect(video.currentTime).toBe(25);
    fireEvent.keyDown(region, { key: "j" });
    fireEvent.keyDown(region, { key: "j" });
    fireEvent.keyDown(region, { key: "j" });
    expect(video.currentTime).toBe(0);

    const mute = screen.getByRole("button", { name: "Mute" });
    fireEvent.keyDown(mute, { key: " " });
    expect(plays).toBe(0);
    fireEvent.keyDown(mute, { key: "k" });
    expect(plays).toBe(1);

    expect(screen.getByRole("button", { name: "Captions: English" })).toBeInTheDocument();
    fireEvent.keyDown(region, { key: "c" });
    expect(screen.getByRole("button", { name: "Captions: Off" })).toBeInTheDocument();
    fireEvent.keyDown(region, { key: "c" });
    expect(screen.getByRole("button", { name: "Captions: English" })).toBeInTheDocument();

    // Fullscreen on the player element (not the bare video), and back.
    const exit = vi.fn(async () => {
      Object.defineProperty(document, "fullscreenElement", { configurable: true, value: null });
      document.dispatchEvent(new Event("fullscreenchange"));
    });
    region.requestFullscreen = vi.fn(async () => {
      Object.defineProperty(document, "fullscreenElement", { configurable: true, value: region });
      document.dispatchEvent(new Event("fullscreenchange"));
    });
    Object.defineProperty(document, "exitFullscreen", { configurable: true, value: exit });
    try {
      await act(async () => fireEvent.keyDown(region, { key: "f" }));
      expect(region.requestFullscreen).toHaveBeenCalledTimes(1);
      expect(screen.getByRole("button", { name: "Exit full screen" })).toBeInTheDocument();
      await act(async () => fireEvent.keyDown(region, { key: "f" }));
      expect(exit).toHaveBeenCalledTimes(1);
      expect(screen.getByRole("button", { name: "Full screen" })).toBeInTheDocument();
    } finally {
      Reflect.deleteProperty(document, "fullscreenElement");
      Reflect.deleteProperty(document, "exitFullscreen");
    }
  });

  it("puts the controls in a sensible tab order", async () => {
    fakeTextTracks();
    renderPlayer({ captions });
    await screen.findByRole("button", { name: /Quality/ });
    const focusable = Array.from(
      screen.getByRole("region", { name: "Video player" }).querySelectorAll<HTMLElement>("button, input, [tabindex]"),
    )
      .filter((el) => el.tabIndex >= 0)
      .map((el) => el.getAttribute("aria-label"));
    expect(focusable).toEqual([
      "Seek",
      "Play",
      "Mute",
      "Volume",
      "Playback speed: 1×",
      "Captions: English",
      "Quality: Auto (240p)",
      "Full screen",
    ]);
  });
});

describe("<VideoPlayer> attaching", () => {
  it("attaches once per source: a new inline playerOptions object does not re-attach, a new src does", async () => {
    const { attach, log } = fakeAttach([rung(0, 240)]);
    const { rerender } = render(
      <VideoPlayer src="http://x/a.m3u8" attach={attach} playerOptions={{ autoplay: false }} />,
    );
    await screen.findByRole("button", { name: /Quality/ });
    rerender(<VideoPlayer src="http://x/a.m3u8" attach={attach} playerOptions={{ autoplay: false }} />);
    rerender(<VideoPlayer src="http://x/b.m3u8" attach={attach} playerOptions={{ autoplay: false }} />);
    await waitFor(() =>
      expect(log.filter((l) => l.startsWith("attach") || l === "destroy")).toEqual([
        "attach http://x/a.m3u8",
        "destroy",
        "attach http://x/b.m3u8",
      ]),
    );
  });
});

describe("<VideoPlayer> teardown", () => {
  it("destroys the player and removes every listener it added, aborting the storyboard request", async () => {
    const tracksOf = fakeTextTracks();
    vi.stubGlobal(
      "fetch",
      vi.fn(
        (_url: string, init?: RequestInit) =>
          new Promise<Response>((_resolve, reject) =>
            init?.signal?.addEventListener("abort", () => reject(init.signal?.reason)),
          ),
      ),
    );
    const added = new Map<string, number>();
    const count = (type: string, d: number) => added.set(type, (added.get(type) ?? 0) + d);
    const add = document.addEventListener.bind(document);
    const remove = document.removeEventListener.bind(document);
    vi.spyOn(document, "addEventListener").mockImplementation((type, listener, options) => {
      count(type, 1);
      add(type, listener, options);
    });
    vi.spyOn(document, "removeEventListener").mockImplementation((type, listener, options) => {
      count(type, -1);
      remove(type, listener, options);
    });

    const { video, log, unmount } = renderPlayer({ captions, storyboard: "http://cdn.test/sb.vtt" });
    await screen.findByRole("button", { name: /Quality/ });
    fireEvent.click(screen.getByRole("button", { name: /Quality/ })); // an open menu listens for outside presses
    const list = tracksOf(video);
    const signal = (vi.mocked(fetch).mock.calls[0]?.[1] as RequestInit | undefined)?.signal;
    expect([...list.listeners].sort()).toEqual(["addtrack", "change", "removetrack"]);
    expect(added.get("fullscreenchange")).toBe(1);
    expect(added.get("pointerdown")).toBe(1);
    expect(signal?.aborted).toBe(false);

    unmount();
    expect(log.at(-1)).toBe("destroy");
    expect([...list.listeners]).toEqual([]);
    expect(added.get("fullscreenchange")).toBe(0);
    expect(added.get("pointerdown")).toBe(0);
    expect(signal?.aborted).toBe(true);
  });
});

function catalogVideo(): Video {
  return {
    id: "0b7c2f4e-8d7a-4a9e-9a57-1c1f6f0f3a10",
    title: "Clip",
    description: "",
    filename: "clip.mp4",
    ownerId: null,
    visibility: "PUBLIC",
    status: "READY",
    progress: 100,
    failureReason: null,
    duration: 30,
    width: 640,
    height: 360,
    renditions: [],
    playable: true,
    playbackUrl: "/media/videos/v1/hls/master.m3u8",
    posterUrl: "/media/videos/v1/poster.jpg",
    storyboardUrl: "/media/videos/v1/storyboard.jpg",
    storyboardVttUrl: "/media/videos/v1/storyboard.vtt",
    createdAt: new Date(0).toISOString(),
    updatedAt: new Date(0).toISOString(),
    publishedAt: null,
    tags: [],
    viewCount: 0,
    passthrough: null,
    captions: [],
    chapters: [],
    chaptersVttUrl: null,
    downloads: false,
  };
}

describe("<VideoPlayer videoId>", () => {
  it("plays the catalog video, resolving its server-relative media URLs against the API server", async () => {
    const video = catalogVideo();
    const client = createReelkitClient({
      baseUrl: "http://api.reelkit.test",
      fetch: async (input) =>
        String(input) === `http://api.reelkit.test/api/videos/${video.id}`
          ? new Response(JSON.stringify(video), { headers: { "content-type": "application/json" } })
          : new Response("{}", { status: 404 }),
    });
    const requests = serveStoryboard(storyboardVtt(30));
    const { attach, log } = fakeAttach([rung(0, 360)]);
    render(
      <ReelkitProvider client={client}>
        <VideoPlayer videoId={video.id} attach={attach} />
      </ReelkitProvider>,
    );
    await waitFor(() => expect(log[0]).toBe("attach http://api.reelkit.test/media/videos/v1/hls/master.m3u8"));
    const region = screen.getByRole("region", { name: "Video player" });
    expect(region.querySelector("video")).toHaveAttribute(
      "poster",
      "http://api.reelkit.test/media/videos/v1/poster.jpg",
    );
    await waitFor(() =>
      expect(requests.map((r) => r.url)).toEqual(["http://api.reelkit.test/media/videos/v1/storyboard.vtt"]),
    );
    // The catalog's duration fills the seek bar before the media's metadata arrives.
    const slider = screen.getByRole("slider", { name: "Seek" });
    expect(slider).toHaveAttribute("aria-valuemax", "30");
    const x = layOutSlider(slider);
    await waitFor(() => {
      fireEvent.pointerMove(slider, { clientX: x(29.5, 30) });
      const tile = screen.getByTestId("seek-preview").querySelector(".rk-seek-image") as HTMLElement | null;
      expect(tile?.style.backgroundImage).toBe('url("http://api.reelkit.test/media/videos/v1/storyboard.jpg")');
      expect(tile?.style.backgroundPosition).toBe("-1440px -180px");
    });
  });

  it("shows how much of a growing video exists on the seek bar, and seeks no further", async () => {
    const video = catalogVideo();
    const client = createReelkitClient({
      baseUrl: "http://api.reelkit.test",
      fetch: async () => new Response(JSON.stringify(video), { headers: { "content-type": "application/json" } }),
    });
    vi.stubGlobal(
      "fetch",
      vi.fn(async () => new Response("", { status: 404 })),
    );
    const { attach, log } = fakeAttach([rung(0, 360)]);
    render(
      <ReelkitProvider client={client}>
        <VideoPlayer videoId={video.id} attach={attach} />
      </ReelkitProvider>,
    );
    await waitFor(() => expect(log[0]).toMatch(/^attach /));
    const media = screen.getByRole("region", { name: "Video player" }).querySelector("video") as HTMLVideoElement;
    // 12 of the catalog's 30 s are written: the element's duration and seekable range end there.
    const written = (seconds: number) => {
      Object.defineProperty(media, "duration", { configurable: true, value: seconds });
      Object.defineProperty(media, "seekable", {
        configurable: true,
        value: { length: 1, start: () => 0, end: () => seconds },
      });
      fireEvent.durationChange(media);
    };
    written(12);
    const slider = screen.getByRole("slider", { name: "Seek" });
    expect(slider).toHaveAttribute("aria-valuemax", "30");
    expect(slider).toHaveAttribute("aria-valuetext", "0:00 of 0:30, 0:12 processed so far");
    expect(screen.getByTestId("seek-written").style.width).toBe("40%");
    const x = layOutSlider(slider);
    fireEvent.pointerDown(slider, { clientX: x(25, 30), button: 0, pointerId: 1 });
    expect(media.currentTime).toBe(12);
    fireEvent.pointerUp(slider, { clientX: x(25, 30), pointerId: 1 });
    fireEvent.keyDown(slider, { key: "Home" });
    fireEvent.keyDown(slider, { key: "End" });
    expect(media.currentTime).toBe(12);

    // Once it is all there, the rail is the plain one again.
    written(30);
    expect(screen.queryByTestId("seek-written")).toBeNull();
    expect(slider).toHaveAttribute("aria-valuetext", "0:12 of 0:30");
  });

  it("marks the catalog video's chapters on the seek bar", async () => {
    const video = {
      ...catalogVideo(),
      id: "8f0c8b3e-5a7d-4c1e-9d6f-2b3a4c5d6e7f",
      chapters: [
        { title: "Intro", startTime: 0 },
        { title: "Credits", startTime: 20 },
      ],
    };
    const client = createReelkitClient({
      baseUrl: "http://api.reelkit.test",
      fetch: async (input) =>
        String(input) === `http://api.reelkit.test/api/videos/${video.id}`
          ? new Response(JSON.stringify(video), { headers: { "content-type": "application/json" } })
          : new Response("{}", { status: 404 }),
    });
    serveStoryboard(storyboardVtt(30));
    const { attach } = fakeAttach([rung(0, 360)]);
    render(
      <ReelkitProvider client={client}>
        <VideoPlayer videoId={video.id} attach={attach} />
      </ReelkitProvider>,
    );
    await waitFor(() => expect(screen.getAllByTestId("chapter-marker")).toHaveLength(1));
    expect(screen.getByTestId("chapter-marker").style.left).toBe("66.6667%");
    expect(screen.getByRole("slider", { name: "Seek" })).toHaveAttribute("aria-valuetext", "0:00 of 0:30, Intro");
  });

  it("counts one view when playback first starts, not on replays, and none with countViews={false}", async () => {
    const video = { ...catalogVideo(), id: "5d1e6c1a-0c55-4a4e-8f0a-52a1f1f3b8c2" };
    const views: string[] = [];
    const client = createReelkitClient({
      baseUrl: "http://api.reelkit.test",
      fetch: async (input, init) => {
        if (String(input) === `http://api.reelkit.test/api/videos/${video.id}/views`) {
          views.push(JSON.parse(String(init?.body)).session);
          return new Response("null", { status: 202, headers: { "content-type": "application/json" } });
        }
        return String(input) === `http://api.reelkit.test/api/videos/${video.id}`
          ? new Response(JSON.stringify(video), { headers: { "content-type": "application/json" } })
          : new Response("{}", { status: 404 });
      },
    });
    serveStoryboard(storyboardVtt(30));
    const { attach, log } = fakeAttach([rung(0, 360)]);
    const { unmount } = render(
      <ReelkitProvider client={client}>
        <VideoPlayer videoId={video.id} attach={attach} />
      </ReelkitProvider>,
    );
    await waitFor(() => expect(log[0]).toMatch(/^attach /));
    const media = screen.getByRole("region", { name: "Video player" }).querySelector("video") as HTMLVideoElement;
    expect(views).toEqual([]);
    fireEvent.playing(media);
    await waitFor(() => expect(views).toHaveLength(1));
    fireEvent.waiting(media);
    fireEvent.playing(media);
    fireEvent.ended(media);
    fireEvent.playing(media);
    await new Promise((r) => setTimeout(r, 20));
    expect(views).toHaveLength(1);
    expect(views[0]).toMatch(/^[0-9a-f]{32}$/);
    unmount();

    const quiet = fakeAttach([rung(0, 360)]);
    render(
      <ReelkitProvider client={client}>
        <VideoPlayer videoId={video.id} attach={quiet.attach} countViews={false} />
      </ReelkitProvider>,
    );
    await waitFor(() => expect(quiet.log[0]).toMatch(/^attach /));
    const second = screen.getByRole("region", { name: "Video player" }).querySelector("video") as HTMLVideoElement;
    fireEvent.playing(second);
    await new Promise((r) => setTimeout(r, 20));
    expect(views).toHaveLength(1);
  });
});
