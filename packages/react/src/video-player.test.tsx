import type { attachPlayer, PlayerHandle, PlayerLevel } from "@reelkit/sdk";
import { act, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { describe, expect, it } from "vitest";
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
        return () => undefined;
      },
      onLevelsLoaded: () => () => undefined,
      onError: () => () => undefined,
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
    expect(items.map((i) => i.textContent)).toEqual(["Auto", "240p ●", "480p"]);
    expect(items[0]).toHaveAttribute("aria-checked", "true");
    fireEvent.click(items[2] as HTMLElement);
    await waitFor(() => expect(screen.getByRole("button", { name: "Quality: 480p" })).toBeInTheDocument());
    expect(log).toEqual(["attach http://x/master.m3u8", "setLevel 1"]);
    unmount();
    expect(log.at(-1)).toBe("destroy");
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
    const region = screen.getByRole("application", { name: "Video player" });
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
});
