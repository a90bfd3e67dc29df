import { afterEach, describe, expect, it } from "vitest";
import { sendJson, startServer, type TestServer } from "../test/http-server.js";
import { createReelkitClient } from "./client.js";
import type { VideoStatusEvent } from "./contract.js";
import { createSseParser, watchVideo } from "./watch.js";

const ev = (status: VideoStatusEvent["status"], progress: number): VideoStatusEvent => ({
  videoId: "v1",
  status,
  progress,
  failureReason: status === "FAILED" ? "not a video" : null,
  playable: status === "READY",
});

describe("createSseParser", () => {
  it("parses events split across chunks, comments and multi-line data", () => {
    const parser = createSseParser();
    expect(parser.push(": hello\nevent: sta")).toEqual([]);
    expect(parser.push('tus\ndata: {"a":\ndata: 1}\n\nda')).toEqual([
      { event: "status", data: '{"a":\n1}', id: undefined },
    ]);
    expect(parser.push("ta: x\r\n\r\n")).toEqual([{ event: "message", data: "x", id: undefined }]);
  });
});

describe("watchVideo", () => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it("follows the SSE stream until READY", async () => {
    server = await startServer(async (req, res) => {
      expect(req.url).toBe("/api/videos/v1/events");
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write(": ping\n\n");
      for (const e of [ev("QUEUED", 0), ev("PROCESSING", 40), ev("READY", 100)]) {
        res.write(`event: status\ndata: ${JSON.stringify(e)}\n\n`);
        await new Promise((r) => setTimeout(r, 10));
      }
      // The server keeps the stream open; the watcher must stop by itself.
    });
    const client = createReelkitClient({ baseUrl: server.baseUrl, getToken: () => "tok" });
    const seen: VideoStatusEvent[] = [];
    const final = await watchVideo(client, "v1", (e) => seen.push(e)).done;
    expect(final.status).toBe("READY");
    expect(seen.map((e) => `${e.status}:${e.progress}`)).toEqual(["QUEUED:0", "PROCESSING:40", "READY:100"]);
    expect(server.requests[0]?.headers.authorization).toBe("Bearer tok");
  });

  it("falls back to polling get() when the stream is unavailable", async () => {
    let gets = 0;
    const states = [
      { status: "PROCESSING", progress: 10 },
      { status: "PROCESSING", progress: 10 },
      { status: "FAILED", progress: 10 },
    ];
    server = await startServer((req, res) => {
      if (req.url?.endsWith("/events")) return sendJson(res, 404, { error: { code: "NOT_FOUND", message: "no" } });
      const state = states[Math.min(gets++, states.length - 1)];
      sendJson(res, 200, {
        id: "v1",
        ...state,
        failureReason: state?.status === "FAILED" ? "not a video" : null,
        playable: false,
      });
    });
    const client = createReelkitClient({ baseUrl: server.baseUrl });
    const seen: VideoStatusEvent[] = [];
    const final = await watchVideo(client, "v1", (e) => seen.push(e), { pollIntervalMs: 10 }).done;
    expect(final).toEqual(ev("FAILED", 10));
    // Unchanged states are not repeated.
    expect(seen.map((e) => e.status)).toEqual(["PROCESSING", "FAILED"]);
    expect(gets).toBe(3);
  });

  it("stops on abort", async () => {
    server = await startServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write(`event: status\ndata: ${JSON.stringify(ev("PROCESSING", 5))}\n\n`);
    });
    const client = createReelkitClient({ baseUrl: server.baseUrl });
    const controller = new AbortController();
    const handle = watchVideo(client, "v1", () => controller.abort(), { signal: controller.signal });
    await expect(handle.done).rejects.toMatchObject({ name: "AbortError" });
  });
});
