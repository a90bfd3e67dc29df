import { describe, expect, it } from "vitest";
import type { VideoUploaded } from "../events.js";
import { InProcessBus } from "./in-process-bus.js";

const uploaded: VideoUploaded = { videoId: "v1", attempt: 1, sourceKey: "videos/v1/source" };

describe("InProcessBus", () => {
  it("resolves publish only after every group's handler finished", async () => {
    const bus = new InProcessBus();
    const seen: string[] = [];
    await bus.subscribe("a", {
      "video.uploaded": async (p) => {
        await new Promise((r) => setTimeout(r, 20));
        seen.push(`a:${p.videoId}`);
      },
    });
    await bus.subscribe("b", { "video.uploaded": async (p) => void seen.push(`b:${p.videoId}`) });
    await bus.publish("video.uploaded", uploaded);
    expect(seen.sort()).toEqual(["a:v1", "b:v1"]);
  });

  it("rejects the publish when a handler fails, so the publisher can retry", async () => {
    const bus = new InProcessBus();
    await bus.subscribe("a", {
      "video.uploaded": async () => {
        throw new Error("disk full");
      },
    });
    await expect(bus.publish("video.uploaded", uploaded)).rejects.toThrow("disk full");
  });

  it("refuses a second handler for the same topic in one group", async () => {
    const bus = new InProcessBus();
    await bus.subscribe("a", { "video.uploaded": async () => {} });
    await expect(bus.subscribe("a", { "video.uploaded": async () => {} })).rejects.toThrow(/already has a handler/);
  });

  it("refuses to publish after close", async () => {
    const bus = new InProcessBus();
    await bus.close();
    await expect(bus.publish("video.uploaded", uploaded)).rejects.toThrow("closed");
  });
});
