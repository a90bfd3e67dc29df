// @vitest-environment node
import { createReelkitClient } from "@reelkit/sdk";
import { renderToString } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { ReelkitProvider, Uploader, VideoPlayer } from "./index.js";

describe("server rendering", () => {
  it("imports and renders without window or document", () => {
    expect(typeof (globalThis as { window?: unknown }).window).toBe("undefined");
    const client = createReelkitClient({ baseUrl: "http://reelkit.test", fetch: async () => new Response("{}") });
    const html = renderToString(
      <ReelkitProvider client={client}>
        <Uploader />
        <VideoPlayer src="http://reelkit.test/master.m3u8" poster="http://reelkit.test/p.jpg" />
      </ReelkitProvider>,
    );
    expect(html).toContain('class="rk-uploader"');
    expect(html).toContain('aria-label="Choose a video file"');
    expect(html).toContain('poster="http://reelkit.test/p.jpg"');
  });
});

describe("<reelkit-player> on a server", () => {
  it("imports without HTMLElement or customElements, and reads its attributes as the player's props", async () => {
    expect(typeof (globalThis as { HTMLElement?: unknown }).HTMLElement).toBe("undefined");
    const { defineReelkitPlayer, propsFromAttributes } = await import("./element.js");
    expect(() => defineReelkitPlayer()).not.toThrow();
    const attrs: Record<string, string> = {
      "video-id": "v1",
      autoplay: "",
      muted: "",
      "start-time": "12",
      controls: "false",
    };
    expect(propsFromAttributes((name) => attrs[name] ?? null)).toMatchObject({
      videoId: "v1",
      autoPlay: "muted",
      muted: true,
      loop: false,
      controls: false,
      startTime: 12,
    });
    expect(propsFromAttributes(() => null)).toMatchObject({ autoPlay: false, controls: true, startTime: undefined });
  });
});
