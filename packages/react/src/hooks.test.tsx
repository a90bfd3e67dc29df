import { createReelkitClient, type UploadHandle, type uploadVideo, type Video } from "@reelkit/sdk";
import { act, renderHook, waitFor } from "@testing-library/react";
import type { ReactNode } from "react";
import { describe, expect, it } from "vitest";
import { ReelkitProvider } from "./context.js";
import { useUpload } from "./use-upload.js";
import { useVideo } from "./use-video.js";
import { useVideos } from "./use-videos.js";

/** A tiny in-memory catalog behind a fetch function, so the real sdk client is exercised. */
function fakeServer(videos: Video[]) {
  const requests: string[] = [];
  const fetchImpl: typeof fetch = async (input) => {
    const url = new URL(String(input));
    requests.push(`${url.pathname}${url.search}`);
    const json = (body: unknown, status = 200) =>
      new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
    if (url.pathname === "/api/videos") {
      const limit = Number(url.searchParams.get("limit") ?? 20);
      const q = url.searchParams.get("q");
      const pool = q ? videos.filter((v) => v.title.includes(q)) : videos;
      const start = Number(url.searchParams.get("cursor") ?? 0);
      const items = pool.slice(start, start + limit);
      return json({ items, nextCursor: start + limit < pool.length ? String(start + limit) : null });
    }
    const match = /^\/api\/videos\/([^/]+)(\/events)?$/.exec(url.pathname);
    if (match?.[2]) return new Response("no sse", { status: 404 });
    const video = videos.find((v) => v.id === match?.[1]);
    if (!video) return json({ error: { code: "VIDEO_NOT_FOUND", message: "no such video" } }, 404);
    return json(video);
  };
  const client = createReelkitClient({ baseUrl: "http://reelkit.test", fetch: fetchImpl });
  const wrapper = ({ children }: { children: ReactNode }) => (
    <ReelkitProvider client={client}>{children}</ReelkitProvider>
  );
  return { client, wrapper, requests };
}

function makeVideo(id: string, patch: Partial<Video> = {}): Video {
  return {
    id,
    title: `Video ${id}`,
    description: "",
    filename: null,
    ownerId: null,
    visibility: "PUBLIC",
    status: "READY",
    progress: 100,
    failureReason: null,
    duration: 3,
    width: 320,
    height: 240,
    renditions: [],
    playable: false,
    playbackUrl: null,
    posterUrl: null,
    storyboardUrl: null,
    storyboardVttUrl: null,
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
    ...patch,
  };
}

describe("useVideo", () => {
  it("loads a video and follows it from PROCESSING to READY", async () => {
    const video = makeVideo("a", { status: "PROCESSING", progress: 10 });
    const { wrapper } = fakeServer([video]);
    const { result } = renderHook(() => useVideo("a", { pollIntervalMs: 10 }), { wrapper });
    await waitFor(() => expect(result.current.video?.status).toBe("PROCESSING"));
    video.progress = 60;
    await waitFor(() => expect(result.current.video?.progress).toBe(60));
    Object.assign(video, { status: "READY", progress: 100, playable: true, playbackUrl: "/media/a/master.m3u8" });
    await waitFor(() => expect(result.current.video?.playbackUrl).toBe("/media/a/master.m3u8"));
    expect(result.current.video?.status).toBe("READY");
  });

  it("keeps a private video's signed playback URL when it is read again, so playback does not restart", async () => {
    let reads = 0;
    const video = makeVideo("p", { visibility: "PRIVATE", status: "PROCESSING", progress: 40, playable: true });
    // Every read signs the URL anew, as the server does for PRIVATE videos.
    Object.defineProperty(video, "playbackUrl", {
      enumerable: true,
      get: () => `/media/s/${++reads}.sig/videos/p/hls/master.m3u8`,
    });
    const { wrapper } = fakeServer([video]);
    const { result } = renderHook(() => useVideo("p", { pollIntervalMs: 10 }), { wrapper });
    await waitFor(() => expect(result.current.video?.playbackUrl).toBe("/media/s/1.sig/videos/p/hls/master.m3u8"));
    Object.assign(video, { status: "READY", progress: 100 });
    await waitFor(() => expect(result.current.video?.status).toBe("READY"));
    await waitFor(() => expect(reads).toBeGreaterThan(1));
    expect(result.current.video?.playbackUrl).toBe("/media/s/1.sig/videos/p/hls/master.m3u8");
  });

  it("surfaces a missing video as an error", async () => {
    const { wrapper } = fakeServer([]);
    const { result } = renderHook(() => useVideo("nope"), { wrapper });
    await waitFor(() => expect(result.current.error).not.toBeNull());
    expect(result.current.loading).toBe(false);
    expect(result.current.error?.message).toMatch(/no such video/);
  });
});

describe("useVideos", () => {
  it("pages through the list with loadMore", async () => {
    const { wrapper } = fakeServer(["1", "2", "3", "4", "5"].map((id) => makeVideo(id)));
    const { result } = renderHook(() => useVideos({ limit: 2 }), { wrapper });
    await waitFor(() => expect(result.current.videos.map((v) => v.id)).toEqual(["1", "2"]));
    expect(result.current.hasMore).toBe(true);
    act(() => result.current.loadMore());
    await waitFor(() => expect(result.current.videos.map((v) => v.id)).toEqual(["1", "2", "3", "4"]));
    act(() => result.current.loadMore());
    await waitFor(() => expect(result.current.videos).toHaveLength(5));
    expect(result.current.hasMore).toBe(false);
  });

  it("searches when q is given", async () => {
    const { wrapper, requests } = fakeServer([makeVideo("cat"), makeVideo("dog")]);
    const { result } = renderHook(() => useVideos({ q: "dog" }), { wrapper });
    await waitFor(() => expect(result.current.videos.map((v) => v.id)).toEqual(["dog"]));
    expect(requests.some((r) => r.includes("q=dog"))).toBe(true);
  });
});

describe("useUpload", () => {
  function fakeUploader(outcome: { fail?: Error }) {
    const calls: string[] = [];
    const upload: typeof uploadVideo = (_client, _file, opts = {}) => {
      let finish!: () => void;
      let reject!: (e: Error) => void;
      const done = new Promise<{ videoId: string; uploadUrl: string }>((res, rej) => {
        finish = () => res({ videoId: "v1", uploadUrl: "http://reelkit.test/api/uploads/x" });
        reject = rej;
      });
      const handle: UploadHandle = {
        done,
        pause: async () => void calls.push("pause"),
        resume: () => {
          calls.push("resume");
          opts.onProgress?.({ bytesSent: 10, bytesTotal: 10, percent: 100, speedBps: 5, etaSeconds: 0 });
          if (outcome.fail) reject(outcome.fail);
          else finish();
        },
        abort: async () => void calls.push("abort"),
      };
      opts.onProgress?.({ bytesSent: 5, bytesTotal: 10, percent: 50, speedBps: 5, etaSeconds: 1 });
      return handle;
    };
    return { upload, calls };
  }

  it("goes uploading → paused → uploading → processing → done", async () => {
    const video = makeVideo("v1", { status: "PROCESSING", progress: 40 });
    const { wrapper } = fakeServer([video]);
    const { upload, calls } = fakeUploader({});
    const { result } = renderHook(() => useUpload({ upload, pollIntervalMs: 10 }), { wrapper });
    expect(result.current.phase).toBe("idle");
    act(() => void result.current.start(new Blob(["x"]), { title: "t" }));
    await waitFor(() => expect(result.current.progress?.percent).toBe(50));
    expect(result.current.phase).toBe("uploading");
    await act(() => result.current.pause());
    expect(result.current.phase).toBe("paused");
    act(() => result.current.resume());
    await waitFor(() => expect(result.current.phase).toBe("processing"));
    expect(result.current.videoId).toBe("v1");
    await waitFor(() => expect(result.current.processingProgress).toBe(40));
    Object.assign(video, { status: "READY", progress: 100 });
    await waitFor(() => expect(result.current.phase).toBe("done"));
    expect(calls).toEqual(["pause", "resume"]);
  });

  it("reports an upload error and retries", async () => {
    const { wrapper } = fakeServer([makeVideo("v1")]);
    const outcome: { fail?: Error } = { fail: new Error("network down") };
    const { upload } = fakeUploader(outcome);
    const { result } = renderHook(() => useUpload({ upload, pollIntervalMs: 10 }), { wrapper });
    act(() => void result.current.start(new Blob(["x"])));
    act(() => result.current.resume());
    await waitFor(() => expect(result.current.phase).toBe("error"));
    expect(result.current.error?.message).toBe("network down");
    outcome.fail = undefined;
    act(() => result.current.retry());
    await waitFor(() => expect(result.current.phase).toBe("uploading"));
    act(() => result.current.resume());
    await waitFor(() => expect(result.current.phase).toBe("done"));
  });
});
