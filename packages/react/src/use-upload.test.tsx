import { createReelkitClient, type UploadHandle, type uploadVideo } from "@reelkit/sdk";
import { act, renderHook, waitFor } from "@testing-library/react";
import type { ReactNode } from "react";
import { describe, expect, it, vi } from "vitest";
import { ReelkitProvider } from "./context.js";
import { useUpload } from "./use-upload.js";

/** An uploader whose creation and completion the test triggers; it records the signals it got. */
function controlledUploader() {
  const runs: {
    create(id: string): void;
    finish(id: string): void;
    signal?: AbortSignal;
    getToken?: () => unknown;
  }[] = [];
  const upload: typeof uploadVideo = (_client, _file, opts = {}) => {
    let resolve!: (r: { videoId: string; uploadUrl: string }) => void;
    const done = new Promise<{ videoId: string; uploadUrl: string }>((res) => {
      resolve = res;
    });
    runs.push({
      create: (id) => opts.onCreated?.(id),
      finish: (id) => resolve({ videoId: id, uploadUrl: `http://reelkit.test/api/uploads/${id}` }),
      signal: opts.signal,
      getToken: opts.getToken,
    });
    const handle: UploadHandle = { done, pause: async () => {}, resume: () => {}, abort: async () => {} };
    return handle;
  };
  return { upload, runs };
}

function wrapper({ children }: { children: ReactNode }) {
  const fetchImpl: typeof fetch = async () =>
    new Response(JSON.stringify({ id: "v1", status: "PROCESSING", progress: 10, failureReason: null }), {
      headers: { "content-type": "application/json" },
    });
  return (
    <ReelkitProvider client={createReelkitClient({ baseUrl: "http://reelkit.test", fetch: fetchImpl })}>
      {children}
    </ReelkitProvider>
  );
}

describe("useUpload onCreated", () => {
  it("has the video id and calls onCreated while still uploading", async () => {
    const { upload, runs } = controlledUploader();
    const onCreated = vi.fn();
    const { result } = renderHook(() => useUpload({ upload, onCreated, pollIntervalMs: 10 }), { wrapper });
    act(() => void result.current.start(new Blob(["x"])));
    expect(result.current.videoId).toBeNull();
    act(() => runs[0]?.create("v1"));
    expect(result.current).toMatchObject({ phase: "uploading", videoId: "v1" });
    expect(onCreated).toHaveBeenCalledExactlyOnceWith("v1");
    act(() => runs[0]?.finish("v1"));
    await waitFor(() => expect(result.current.phase).toBe("processing"));
    expect(result.current.videoId).toBe("v1");
    expect(onCreated).toHaveBeenCalledTimes(1);
  });

  it("calls the latest onCreated, and nothing for an upload that was cancelled", () => {
    const { upload, runs } = controlledUploader();
    const first = vi.fn();
    const second = vi.fn();
    const { result, rerender } = renderHook(({ onCreated }) => useUpload({ upload, onCreated }), {
      wrapper,
      initialProps: { onCreated: first },
    });
    act(() => void result.current.start(new Blob(["x"])));
    rerender({ onCreated: second });
    act(() => runs[0]?.create("v1"));
    expect(first).not.toHaveBeenCalled();
    expect(second).toHaveBeenCalledWith("v1");

    act(() => void result.current.start(new Blob(["y"])));
    act(() => result.current.cancel());
    expect(runs[1]?.signal?.aborted).toBe(true);
    act(() => runs[1]?.create("v2"));
    expect(second).toHaveBeenCalledTimes(1);
    expect(result.current).toMatchObject({ phase: "idle", videoId: null });
  });
});

describe("useUpload getToken", () => {
  it("hands the uploader the latest token getter (an upload token from the site's backend)", async () => {
    const { upload, runs } = controlledUploader();
    const { result, rerender } = renderHook(({ token }) => useUpload({ upload, getToken: async () => token }), {
      wrapper,
      initialProps: { token: "rkut_first" },
    });
    act(() => void result.current.start(new Blob(["x"])));
    expect(await runs[0]?.getToken?.()).toBe("rkut_first");
    rerender({ token: "rkut_second" });
    expect(await runs[0]?.getToken?.()).toBe("rkut_second");
  });

  it("leaves the client's own token to the uploader when none is given", () => {
    const { upload, runs } = controlledUploader();
    const { result } = renderHook(() => useUpload({ upload }), { wrapper });
    act(() => void result.current.start(new Blob(["x"])));
    expect(runs[0]?.getToken).toBeUndefined();
  });
});
