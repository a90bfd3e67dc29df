import {
  createReelkitClient,
  ReelkitApiError,
  type UploadHandle,
  type UploadProgress,
  type uploadVideo,
} from "@reelkit/sdk";
import { act, fireEvent, render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { ReelkitProvider } from "./context.js";
import { waitingInLine } from "./upload-messages.js";
import { Uploader } from "./uploader.js";

function setup() {
  const video: { status: string; progress: number; phase?: string; queuePosition?: number | null } = {
    status: "PROCESSING",
    progress: 30,
  };
  const fetchImpl: typeof fetch = async (input) => {
    if (String(input).endsWith("/events")) return new Response("", { status: 404 });
    return new Response(
      JSON.stringify({ id: "v9", ...video, failureReason: video.status === "FAILED" ? "bad media" : null }),
      { headers: { "content-type": "application/json" } },
    );
  };
  const client = createReelkitClient({ baseUrl: "http://reelkit.test", fetch: fetchImpl });
  const control: {
    progress?: (p: UploadProgress) => void;
    create?: () => void;
    finish?: () => void;
    fail?: (e: Error) => void;
  } = {};
  const seen: { title?: string } = {};
  const upload: typeof uploadVideo = (_c, _f, o = {}) => {
    seen.title = o.title;
    control.progress = o.onProgress;
    control.create = () => o.onCreated?.("v9");
    const done = new Promise<{ videoId: string; uploadUrl: string }>((res, rej) => {
      control.finish = () => res({ videoId: "v9", uploadUrl: "u" });
      control.fail = rej;
    });
    const handle: UploadHandle = { done, pause: async () => {}, resume: () => {}, abort: async () => {} };
    return handle;
  };
  return { client, upload, control, video, seen };
}

describe("<Uploader>", () => {
  it("uploads a picked file with progress, pause/resume, then processing and onReady", async () => {
    const { client, upload, control, video, seen } = setup();
    const onCreated = vi.fn();
    const onUploaded = vi.fn();
    const onReady = vi.fn();
    const user = userEvent.setup();
    render(
      <ReelkitProvider client={client}>
        <Uploader upload={upload} pollIntervalMs={10} onCreated={onCreated} onUploaded={onUploaded} onReady={onReady} />
      </ReelkitProvider>,
    );
    expect(screen.getByRole("button", { name: "Upload" })).toBeDisabled();
    await user.upload(
      screen.getByLabelText("Choose a video file"),
      new File(["abc"], "holiday.mp4", { type: "video/mp4" }),
    );
    expect(screen.getByLabelText("Title")).toHaveValue("holiday");
    await user.type(screen.getByLabelText("Description"), "beach");
    await user.click(screen.getByRole("button", { name: "Upload" }));
    expect(seen.title).toBe("holiday");
    act(() => control.create?.());
    expect(onCreated).toHaveBeenCalledExactlyOnceWith("v9");
    expect(onUploaded).not.toHaveBeenCalled();
    control.progress?.({ bytesSent: 512, bytesTotal: 1024, percent: 50, speedBps: 2048, etaSeconds: 65 });
    await waitFor(() => expect(screen.getByText(/50% · 2.0 KB\/s · ETA 1m 5s/)).toBeInTheDocument());
    expect(screen.getByLabelText("Upload progress")).toHaveAttribute("value", "50");
    await user.click(screen.getByRole("button", { name: "Pause" }));
    await user.click(await screen.findByRole("button", { name: "Resume" }));
    expect(screen.getByRole("button", { name: "Pause" })).toBeInTheDocument();
    // Waiting for a transcoder first: its place in line.
    Object.assign(video, { status: "QUEUED", progress: 0, phase: "queued", queuePosition: 3 });
    control.finish?.();
    await waitFor(() => expect(onUploaded).toHaveBeenCalledWith("v9"));
    expect(await screen.findByText("Waiting — 3rd in line…")).toBeInTheDocument();
    Object.assign(video, { status: "PROCESSING", progress: 30, phase: "playable", queuePosition: null });
    expect(await screen.findByText(/Processing… 30%/)).toBeInTheDocument();
    // The upload bar stays, full, while the server processes (the last progress event said 50%).
    expect(screen.getByLabelText("Upload progress")).toHaveAttribute("value", "100");
    expect(screen.getByText("Uploaded · 100%")).toBeInTheDocument();
    // Watchable already, the rest of the ladder still encoding.
    Object.assign(video, { progress: 55, phase: "ladder" });
    expect(await screen.findByText(/Playable — more qualities coming… 55%/)).toBeInTheDocument();
    video.status = "READY";
    await waitFor(() => expect(onReady).toHaveBeenCalledWith("v9"));
    expect(screen.getByRole("status")).toHaveTextContent("ready");
  });

  it("accepts a dropped file, reports errors and offers retry", async () => {
    const { client, upload, control } = setup();
    const onError = vi.fn();
    render(
      <ReelkitProvider client={client}>
        <Uploader upload={upload} onError={onError} />
      </ReelkitProvider>,
    );
    const file = new File(["x"], "clip.webm", { type: "video/webm" });
    fireEvent.drop(screen.getByTestId("rk-dropzone"), { dataTransfer: { files: [file] } });
    expect(screen.getByText("clip.webm")).toBeInTheDocument();
    fireEvent.click(screen.getByRole("button", { name: "Upload" }));
    control.fail?.(new Error("offline"));
    expect(await screen.findByRole("alert")).toHaveTextContent("offline");
    // onError runs in an effect after the commit that shows the alert: wait for it.
    await waitFor(() => expect(onError).toHaveBeenCalledWith(expect.objectContaining({ message: "offline" })));
    fireEvent.click(screen.getByRole("button", { name: "Retry" }));
    expect(await screen.findByLabelText("Upload progress")).toBeInTheDocument();
  });

  it("reports a cancel through onCancel and shows the empty form again", async () => {
    const { client, upload } = setup();
    const onCancel = vi.fn();
    const user = userEvent.setup();
    render(
      <ReelkitProvider client={client}>
        <Uploader upload={upload} onCancel={onCancel} />
      </ReelkitProvider>,
    );
    await user.upload(screen.getByLabelText("Choose a video file"), new File(["x"], "a.mp4", { type: "video/mp4" }));
    await user.click(screen.getByRole("button", { name: "Upload" }));
    expect(onCancel).not.toHaveBeenCalled();
    await user.click(screen.getByRole("button", { name: "Cancel" }));
    expect(onCancel).toHaveBeenCalledTimes(1);
    expect(screen.queryByLabelText("Upload progress")).not.toBeInTheDocument();
    expect(screen.getByLabelText("Choose a video file")).toBeInTheDocument();
  });

  it("shows Paused without a stale speed or ETA, and passes progress to onProgress", async () => {
    const { client, upload, control } = setup();
    const onProgress = vi.fn();
    const user = userEvent.setup();
    render(
      <ReelkitProvider client={client}>
        <Uploader upload={upload} onProgress={onProgress} />
      </ReelkitProvider>,
    );
    await user.upload(screen.getByLabelText("Choose a video file"), new File(["x"], "a.mp4", { type: "video/mp4" }));
    await user.click(screen.getByRole("button", { name: "Upload" }));
    const progress = { bytesSent: 640, bytesTotal: 1024, percent: 62.5, speedBps: 4096, etaSeconds: 3 };
    act(() => control.progress?.(progress));
    expect(onProgress).toHaveBeenCalledWith(progress);
    await user.click(screen.getByRole("button", { name: "Pause" }));
    expect(await screen.findByText("Paused · 62%")).toBeInTheDocument();
    expect(screen.queryByText(/KB\/s|ETA/)).not.toBeInTheDocument();
  });

  it("words API errors by their code and offers no Retry that cannot help", async () => {
    const { client, upload, control } = setup();
    render(
      <ReelkitProvider client={client}>
        <Uploader upload={upload} />
      </ReelkitProvider>,
    );
    fireEvent.drop(screen.getByTestId("rk-dropzone"), {
      dataTransfer: { files: [new File(["x"], "a.mp4", { type: "video/mp4" })] },
    });
    fireEvent.click(screen.getByRole("button", { name: "Upload" }));
    control.fail?.(
      new ReelkitApiError({ status: 413, code: "UPLOAD_TOO_LARGE", message: "tus: unexpected response …" }),
    );
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("This file is larger than this site accepts.");
    expect(alert).not.toHaveTextContent("tus:");
    expect(screen.queryByRole("button", { name: "Retry" })).not.toBeInTheDocument();
  });

  it("tells a processing failure from an upload failure, and offers Upload another", async () => {
    const { client, upload, control, video } = setup();
    const user = userEvent.setup();
    render(
      <ReelkitProvider client={client}>
        <Uploader upload={upload} pollIntervalMs={10} />
      </ReelkitProvider>,
    );
    await user.upload(screen.getByLabelText("Choose a video file"), new File(["x"], "a.mp4", { type: "video/mp4" }));
    await user.click(screen.getByRole("button", { name: "Upload" }));
    video.status = "FAILED";
    control.finish?.();
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("Uploaded, but the video could not be processed: bad media");
    expect(screen.queryByRole("button", { name: "Retry" })).not.toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Upload another" }));
    expect(screen.getByLabelText("Choose a video file")).toBeInTheDocument();
    expect(screen.getByLabelText("Title")).toHaveValue("");
  });

  it("offers Upload another once the video is ready", async () => {
    const { client, upload, control, video } = setup();
    const user = userEvent.setup();
    render(
      <ReelkitProvider client={client}>
        <Uploader upload={upload} pollIntervalMs={10} />
      </ReelkitProvider>,
    );
    await user.upload(screen.getByLabelText("Choose a video file"), new File(["x"], "a.mp4", { type: "video/mp4" }));
    await user.click(screen.getByRole("button", { name: "Upload" }));
    video.status = "READY";
    control.finish?.();
    expect(await screen.findByText("Your video is ready.")).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Upload another" }));
    expect(screen.getByRole("button", { name: "Upload" })).toBeDisabled();
  });

  it("checks maxSize and accept before uploading", async () => {
    const { client, upload, seen } = setup();
    render(
      <ReelkitProvider client={client}>
        <Uploader upload={upload} maxSize={4} accept="video/*,.mkv" />
      </ReelkitProvider>,
    );
    const drop = (f: File) => fireEvent.drop(screen.getByTestId("rk-dropzone"), { dataTransfer: { files: [f] } });
    drop(new File(["12345"], "big.mp4", { type: "video/mp4" }));
    expect(screen.getByRole("alert")).toHaveTextContent("big.mp4 is 5 B; the largest file accepted is 4 B.");
    drop(new File(["1"], "notes.txt", { type: "text/plain" }));
    expect(screen.getByRole("alert")).toHaveTextContent("notes.txt is not a file this form accepts");
    expect(screen.getByRole("button", { name: "Upload" })).toBeDisabled();
    drop(new File(["1"], "film.mkv", { type: "" }));
    expect(screen.queryByRole("alert")).not.toBeInTheDocument();
    fireEvent.click(screen.getByRole("button", { name: "Upload" }));
    expect(seen.title).toBe("film");
  });
});

describe("waitingInLine", () => {
  it("says the place in line in words", () => {
    expect([1, 2, 3, 4, 11, 12, 13, 21, 22, 101, 111].map(waitingInLine)).toEqual([
      "Waiting — next in line",
      "Waiting — 2nd in line",
      "Waiting — 3rd in line",
      "Waiting — 4th in line",
      "Waiting — 11th in line",
      "Waiting — 12th in line",
      "Waiting — 13th in line",
      "Waiting — 21st in line",
      "Waiting — 22nd in line",
      "Waiting — 101st in line",
      "Waiting — 111th in line",
    ]);
  });
});
