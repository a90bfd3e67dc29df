import { afterEach, describe, expect, it } from "vitest";
import { sendJson, startServer, type TestServer } from "../test/http-server.js";
import { animatedPreviewUrl, createReelkitClient, newViewSession, thumbnailUrl } from "./client.js";
import { ReelkitApiError } from "./errors.js";

const video = (id: string, title = "A clip") => ({
  id,
  title,
  description: "",
  filename: "clip.mp4",
  status: "READY",
  progress: 100,
  failureReason: null,
  duration: 3,
  width: 320,
  height: 180,
  renditions: [],
  playable: true,
  playbackUrl: `/media/videos/${id}/hls/master.m3u8`,
  posterUrl: null,
  storyboardUrl: null,
  storyboardVttUrl: null,
  createdAt: "2026-01-01T00:00:00.000Z",
  updatedAt: "2026-01-01T00:00:00.000Z",
  publishedAt: null,
  tags: [],
  viewCount: 0,
  passthrough: null,
  captions: [],
  chapters: [],
  chaptersVttUrl: null,
  downloads: false,
});

describe("createReelkitClient", () => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it("lists with query parameters and a bearer token", async () => {
    server = await startServer((req, res) => {
      const url = new URL(req.url ?? "", "http://x");
      sendJson(res, 200, { items: [video("v1")], nextCursor: url.searchParams.get("limit") === "1" ? "c2" : null });
    });
    const client = createReelkitClient({ baseUrl: `${server.baseUrl}/`, getToken: async () => "tok" });
    const page = await client.list({ limit: 1, sort: "oldest", cursor: undefined });
    expect(page.items.map((v) => v.id)).toEqual(["v1"]);
    expect(page.nextCursor).toBe("c2");
    expect(server.requests[0]?.url).toBe("/api/videos?limit=1&sort=oldest");
    expect(server.requests[0]?.headers.authorization).toBe("Bearer tok");
  });

  it("searches with q and sends no authorization without a token", async () => {
    server = await startServer((_req, res) => sendJson(res, 200, { items: [], nextCursor: null }));
    const client = createReelkitClient({ baseUrl: server.baseUrl, getToken: () => null });
    await client.search({ q: "cat videos", limit: 5 });
    expect(server.requests[0]?.url).toBe("/api/videos?q=cat+videos&limit=5");
    expect(server.requests[0]?.headers.authorization).toBeUndefined();
  });

  it("sends sorts and filters (tags as a comma-separated list) and asks for suggestions", async () => {
    server = await startServer((req, res) =>
      req.url?.startsWith("/api/videos/suggestions")
        ? sendJson(res, 200, { suggestions: ["Cooking pasta"] })
        : sendJson(res, 200, { items: [], nextCursor: null }),
    );
    const client = createReelkitClient({ baseUrl: server.baseUrl });
    await client.search({ q: "pasta", sort: "views", duration: "short", minHeight: 720, tags: ["food", "italy"] });
    await client.list({ publishedAfter: "2026-01-01", owner: "u1", minDuration: 60 });
    expect(await client.suggest("cook", 5)).toEqual(["Cooking pasta"]);
    expect(server.requests.map((r) => r.url)).toEqual([
      "/api/videos?q=pasta&sort=views&duration=short&minHeight=720&tags=food%2Citaly",
      "/api/videos?publishedAfter=2026-01-01&owner=u1&minDuration=60",
      "/api/videos/suggestions?q=cook&limit=5",
    ]);
  });

  it("gets, updates with a JSON body and deletes", async () => {
    server = await startServer((req, res, body) => {
      if (req.method === "GET") return sendJson(res, 200, video("a/b"));
      if (req.method === "PATCH") return sendJson(res, 200, video("a/b", JSON.parse(body.toString()).title));
      res.writeHead(204).end();
    });
    const client = createReelkitClient({ baseUrl: server.baseUrl });
    expect((await client.get("a/b")).id).toBe("a/b");
    expect((await client.update("a/b", { title: "New" })).title).toBe("New");
    await expect(client.delete("a/b")).resolves.toBeUndefined();
    expect(server.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      "GET /api/videos/a%2Fb",
      "PATCH /api/videos/a%2Fb",
      "DELETE /api/videos/a%2Fb",
    ]);
    expect(server.requests[1]?.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(server.requests[1]?.body ?? "")).toEqual({ title: "New" });
  });

  it("counts a view with its playback session, and makes a fresh random session id each time", async () => {
    server = await startServer((_req, res) => sendJson(res, 202, null));
    const client = createReelkitClient({ baseUrl: server.baseUrl });
    const first = newViewSession();
    expect(first).toMatch(/^[0-9a-f]{32}$/);
    expect(newViewSession()).not.toBe(first);
    await expect(client.recordView("v1", first)).resolves.toBeUndefined();
    expect(`${server.requests[0]?.method} ${server.requests[0]?.url}`).toBe("POST /api/videos/v1/views");
    expect(JSON.parse(server.requests[0]?.body ?? "")).toEqual({ session: first });
  });

  it("throws ReelkitApiError parsed from the error body", async () => {
    server = await startServer((_req, res) =>
      sendJson(res, 404, { error: { code: "VIDEO_NOT_FOUND", message: "No video x" } }),
    );
    const client = createReelkitClient({ baseUrl: server.baseUrl });
    const error = await client.get("x").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReelkitApiError);
    expect(error).toMatchObject({ status: 404, code: "VIDEO_NOT_FOUND", message: "No video x" });
  });

  it("throws a generic HTTP_ERROR for non-JSON error bodies", async () => {
    server = await startServer((_req, res) => {
      res.writeHead(502, { "content-type": "text/html" }).end("<h1>Bad gateway</h1>");
    });
    const client = createReelkitClient({ baseUrl: server.baseUrl });
    await expect(client.list()).rejects.toMatchObject({ status: 502, code: "HTTP_ERROR" });
  });

  it("uses the fetch it was given", async () => {
    server = await startServer((_req, res) => sendJson(res, 200, video("v9")));
    const seen: string[] = [];
    const client = createReelkitClient({
      baseUrl: server.baseUrl,
      fetch: (input, init) => {
        seen.push(String(input));
        return fetch(input, init);
      },
    });
    await client.get("v9");
    expect(seen).toEqual([`${server.baseUrl}/api/videos/v9`]);
  });
});

describe("text tracks and chapters", () => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it("sends a caption file as its own type, lists, deletes and sets chapters", async () => {
    const track = {
      language: "en",
      label: "English",
      kind: "subtitles",
      default: true,
      url: "/media/videos/v1/hls/subtitles/en-1/track.vtt",
      cueCount: 1,
      createdAt: "2026-01-01T00:00:00.000Z",
    };
    server = await startServer((req, res) => {
      if (req.method === "POST") return sendJson(res, 201, track);
      if (req.method === "DELETE") return void res.writeHead(204).end();
      if (req.url?.endsWith("/chapters")) return sendJson(res, 200, { chapters: [{ title: "A", startTime: 0 }] });
      sendJson(res, 200, { items: [track] });
    });
    const client = createReelkitClient({ baseUrl: server.baseUrl, getToken: () => "tok" });
    const srt = "1\n00:00:01,000 --> 00:00:02,000\nHi\n";
    expect(await client.addCaption("v1", { language: "en", label: "English", default: true, file: srt })).toEqual(
      track,
    );
    await client.addCaption("v1", { language: "fr", file: new Blob(["WEBVTT\n"]) });
    expect(await client.captions("v1")).toEqual([track]);
    await client.deleteCaption("v1", "pt-BR");
    expect(await client.setChapters("v1", [{ title: "A", startTime: 0 }])).toEqual([{ title: "A", startTime: 0 }]);
    const [add, addVtt, list, del, put] = server.requests;
    expect([add?.method, add?.url, add?.headers["content-type"], add?.body]).toEqual([
      "POST",
      "/api/videos/v1/captions?language=en&label=English&default=true",
      "application/x-subrip",
      srt,
    ]);
    expect([addVtt?.url, addVtt?.headers["content-type"]]).toEqual(["/api/videos/v1/captions?language=fr", "text/vtt"]);
    expect([list?.method, list?.url]).toEqual(["GET", "/api/videos/v1/captions"]);
    expect([del?.method, del?.url]).toEqual(["DELETE", "/api/videos/v1/captions/pt-BR"]);
    expect([put?.method, put?.url, JSON.parse(put?.body ?? "")]).toEqual([
      "PUT",
      "/api/videos/v1/chapters",
      { chapters: [{ title: "A", startTime: 0 }] },
    ]);
  });

  it("downloads with the token, names the download URL, and chooses a poster frame", async () => {
    server = await startServer((req, res) => {
      if (req.url?.startsWith("/api/videos/v1/download")) {
        res.writeHead(200, { "content-type": "video/mp4" }).end("mp4-bytes");
        return;
      }
      if (req.method === "PATCH") return sendJson(res, 200, { ...video("v1"), posterTime: 2.5 });
      sendJson(res, 403, { error: { code: "FORBIDDEN", message: "No downloads" } });
    });
    const client = createReelkitClient({ baseUrl: server.baseUrl, getToken: () => "tok" });
    expect(client.downloadUrl("v1", { quality: "720p" })).toBe(`${server.baseUrl}/api/videos/v1/download?quality=720p`);
    expect(await (await client.download("v1", { quality: "720p" })).text()).toBe("mp4-bytes");
    await expect(client.download("v2")).rejects.toMatchObject({ status: 403, code: "FORBIDDEN" });
    expect((await client.update("v1", { posterTime: 2.5 })).posterTime).toBe(2.5);
    const [download, , patch] = server.requests;
    expect([download?.url, download?.headers.authorization]).toEqual([
      "/api/videos/v1/download?quality=720p",
      "Bearer tok",
    ]);
    expect(JSON.parse(patch?.body ?? "")).toEqual({ posterTime: 2.5 });
  });

  it("builds image URLs from a video's thumbnailUrl", () => {
    const ready = { thumbnailUrl: "/media/s/tok/videos/v1/thumbnail.jpg" };
    expect(thumbnailUrl(ready, { time: 12.5, width: 320, height: 180, fit: "crop" })).toBe(
      "/media/s/tok/videos/v1/thumbnail.jpg?time=12.5&width=320&height=180&fit=crop",
    );
    expect(thumbnailUrl(ready, { format: "webp" })).toBe("/media/s/tok/videos/v1/thumbnail.webp");
    expect(animatedPreviewUrl(ready, { start: 1, end: 4, fps: 10, width: 240 })).toBe(
      "/media/s/tok/videos/v1/animated.webp?start=1&end=4&fps=10&width=240",
    );
    expect(thumbnailUrl({ thumbnailUrl: null })).toBeNull();
    expect(animatedPreviewUrl({})).toBeNull();
  });
});
