import Hls from "hls.js";
import { afterEach, describe, expect, it, vi } from "vitest";
import { attachPlayer, choosePlayerEngine, growingVodConfig, type PlayerVideoElement } from "./player.js";

/** A minimal stand-in for a <video> element in Node (no DOM in this test project). */
function fakeVideo(canPlayHls: boolean) {
  const listeners = new Map<string, () => void>();
  const video = {
    src: "",
    loads: 0,
    canPlayType: (type: string) => (canPlayHls && type === "application/vnd.apple.mpegurl" ? "maybe" : ""),
    removeAttribute(name: string) {
      if (name === "src") this.src = "";
    },
    load() {
      this.loads++;
    },
    play: () => Promise.resolve(),
    addEventListener: (name: string, fn: () => void) => listeners.set(name, fn),
    removeEventListener: (name: string) => listeners.delete(name),
    error: { code: 4, message: "unsupported" },
    listeners,
  };
  return video;
}

describe("attachPlayer", () => {
  it("uses native HLS where hls.js is unsupported (real hls.js in Node has no MSE)", async () => {
    const video = fakeVideo(true);
    const player = await attachPlayer(video as unknown as PlayerVideoElement, "http://x/master.m3u8");
    expect(player.engine).toBe("native");
    expect(video.src).toBe("http://x/master.m3u8");
    expect(player.levels()).toEqual([]);
    expect(player.currentLevel()).toBe(-1);
    const errors: string[] = [];
    player.onError((e) => errors.push(e.details));
    video.listeners.get("error")?.();
    expect(errors).toEqual(["MEDIA_ERR_4"]);
    player.destroy();
    expect(video.src).toBe("");
    expect(video.loads).toBe(1);
    expect(video.listeners.has("error")).toBe(false);
  });

  it("never loads hls.js for an element that plays natively", async () => {
    const loadHls = vi.fn(() => Promise.reject(new Error("hls.js must not load")));
    const player = await attachPlayer(fakeVideo(true) as unknown as PlayerVideoElement, "http://x/m.m3u8", { loadHls });
    expect(player.engine).toBe("native");
    expect(loadHls).not.toHaveBeenCalled();
  });

  it("prefers hls.js where Media Source Extensions exist, native HLS when asked to", () => {
    vi.stubGlobal("MediaSource", { isTypeSupported: () => true });
    expect(choosePlayerEngine(fakeVideo(true))).toBe("hls.js");
    expect(choosePlayerEngine(fakeVideo(false))).toBe("hls.js");
    expect(choosePlayerEngine(fakeVideo(true), { preferNative: true })).toBe("native");
    vi.unstubAllGlobals();
    expect(choosePlayerEngine(fakeVideo(true))).toBe("native");
    expect(choosePlayerEngine(fakeVideo(false))).toBe(null);
  });

  it("refuses when neither hls.js nor native HLS can play", async () => {
    await expect(attachPlayer(fakeVideo(false) as unknown as PlayerVideoElement, "http://x/m.m3u8")).rejects.toThrow(
      /cannot play HLS/,
    );
  });
});

describe("growingVodConfig", () => {
  // A growing playlist as hls.js sees it 20 s in: EVENT, no EXT-X-ENDLIST, 2 s target duration.
  const growing = { live: true, edge: 20, age: 0, totalduration: 20, targetduration: 2, holdBack: 0, partTarget: 0 };
  const hlsWith = (config: object) => ({
    on: () => undefined,
    off: () => undefined,
    config,
    userConfig: {},
    latestLevelDetails: growing,
  });

  it("starts at 0 with no catch-up and a finite, growing duration", () => {
    const config = growingVodConfig(Hls);
    expect(config).toMatchObject({ startPosition: 0, maxLiveSyncPlaybackRate: 1, liveDurationInfinity: false });
  });

  it("gives hls.js no live sync point to seek to, where its own controller has one", () => {
    const Default = Hls.DefaultConfig.latencyController as NonNullable<typeof Hls.DefaultConfig.latencyController>;
    const Growing = growingVodConfig(Hls).latencyController as typeof Default;
    type Ctor = new (hls: unknown) => { liveSyncPosition: number | null; destroy(): void };
    const live = new (Default as unknown as Ctor)(hlsWith(Hls.DefaultConfig));
    const vod = new (Growing as unknown as Ctor)(hlsWith(Hls.DefaultConfig));
    // hls.js's live edge for this playlist: three target durations behind the end.
    expect(live.liveSyncPosition).toBe(14);
    expect(vod.liveSyncPosition).toBeNull();
    live.destroy();
    vod.destroy();
  });
});

afterEach(() => {
  vi.unstubAllGlobals();
});
