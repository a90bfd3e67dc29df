import { afterEach, describe, expect, it, vi } from "vitest";
import { attachPlayer, choosePlayerEngine, type PlayerVideoElement } from "./player.js";

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

afterEach(() => {
  vi.unstubAllGlobals();
});
