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
