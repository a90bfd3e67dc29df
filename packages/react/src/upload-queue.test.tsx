import {
  createReelkitClient,
  type UploadHandle,
  type UploadProgress,
  type UploadVideoOptions,
  type uploadVideo,
} from "@reelkit/sdk";
import { act, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { StrictMode } from "react";
import { describe, expect, it, vi } from "vitest";
import { ReelkitProvider } from "./context.js";
import { parseTags } from "./upload-queue.js";
import { Uploader } from "./uploader.js";

interface Started {
  name: string;
  options: UploadVideoOptions;
  progress: (p: UploadProgress) => void;
  finish: () => void;
  fail: (e: Error) => void;
}

/** Fake uploads, one record per started file; every video is READY when the status is read. */
function setup() {
  const fetchImpl: typeof fetch = async (input) => {
    if (String(input).endsWith("/events")) return new Response("", { status: 404 });
    const id = String(input).split("/").pop();
    return new Response(JSON.stringify({ id, status: "READY", progress: 100, failureReason: null }), {
      headers: { "content-type": "application/json" },
    });
  };
  const client = createReelkitClient({ baseUrl: "http://reelkit.test", fetch: fetchImpl });
  const started: Started[] = [];
  const upload: typeof uploadVideo = (_c, file, options = {}) => {
    const name = (file as File).name;
    let finish!: () => void;
    let fail!: (e: Error) => void;
    const done = new Promise<{ videoId: string; uploadUrl: string }>((res, rej) => {
      finish = () => res({ videoId: `v-${name}`, uploadUrl: `u-${name}` });
      fail = rej;
    });
    done.catch(() => undefined);
    void Promise.resolve(options.getToken?.()).then(() => options.onCreated?.(`v-${name}`));
    started.push({ name, options, progress: (p) => options.onProgress?.(p), finish, fail });
    const handle: UploadHandle = { done, pause: async () => {}, resume: () => {}, abort: async () => {} };
    return handle;
  };
  return { client, upload, started };
}

const files = (...names: string[]) => names.map((n) => new File([n], n, { type: "video/mp4" }));
const row = (name: string) => screen.getByText(name).closest("li") as HTMLElement;

describe("<Uploader multiple>", () => {
  it("uploads several files through a queue, each with its own progress and state", async () => {
    const { client, upload, started } = setup();
    const onReady = vi.fn();
    const getToken = vi.fn(async () => "rkut_x");
    const user = userEvent.setup();
    render(
      <ReelkitProvider client={client}>
        <Uploader
          multiple
          concurrency={2}
          upload={upload}
          pollIntervalMs={10}
          getToken={getToken}
          chooseVisibility
          chooseTags
          onReady={onReady}
        />
      </ReelkitProvider>,
    );
    await user.upload(screen.getByLabelText("Choose video files"), files("a.mp4", "b.mp4", "c.mp4"));
    await user.selectOptions(screen.getByLabelText("Visibility"), "PRIVATE");
    await user.type(screen.getByLabelText("Tags"), "Trip, sea, trip");
    await user.click(screen.getByRole("button", { name: "Upload 3 files" }));

    // Two send bytes at once; the third waits its turn.
    await waitFor(() => expect(started.map((s) => s.name)).toEqual(["a.mp4", "b.mp4"]));
    expect(within(row("c.mp4")).getByText("Queued")).toBeInTheDocument();
    // Each asks for its own token, told the file and the choices.
    await waitFor(() => expect(getToken).toHaveBeenCalledTimes(2));
    expect(getToken).toHaveBeenCalledWith(
      expect.objectContaining({ file: expect.any(File), visibility: "PRIVATE", tags: ["trip", "sea"] }),
    );
    expect(started[0]?.options).toMatchObject({ visibility: "PRIVATE", tags: ["trip", "sea"] });

    act(() => started[0]?.progress({ bytesSent: 1, bytesTotal: 4, percent: 25, speedBps: 0, etaSeconds: null }));
    act(() => started[1]?.progress({ bytesSent: 3, bytesTotal: 4, percent: 75, speedBps: 0, etaSeconds: null }));
    expect(within(row("a.mp4")).getByLabelText("Upload progress of a.mp4")).toHaveAttribute("value", "25");
    expect(within(row("b.mp4")).getByLabelText("Upload progress of b.mp4")).toHaveAttribute("value", "75");

    // One paused keeps its slot; the other finishing frees one for the queued file.
    await user.click(screen.getByRole("button", { name: "Pause a.mp4" }));
    expect(within(row("a.mp4")).getByText("Paused · 25%")).toBeInTheDocument();
    act(() => started[1]?.finish());
    await waitFor(() => expect(started.map((s) => s.name)).toEqual(["a.mp4", "b.mp4", "c.mp4"]));
    await waitFor(() => expect(within(row("b.mp4")).getByText("Ready")).toBeInTheDocument());
    expect(onReady).toHaveBeenCalledWith("v-b.mp4");

    act(() => started[2]?.fail(Object.assign(new Error("x"), { code: "UPLOAD_TOO_LARGE" })));
    expect(await within(row("c.mp4")).findByText(/This file is larger than this site accepts/)).toBeInTheDocument();
    expect(within(row("c.mp4")).queryByRole("button", { name: "Retry c.mp4" })).toBeNull();
    await user.click(screen.getByRole("button", { name: "Resume a.mp4" }));
    act(() => started[0]?.finish());
    await waitFor(() => expect(onReady).toHaveBeenCalledTimes(2));
    // All settled: the form is back for more files.
    expect(screen.getByLabelText("Choose video files")).toBeInTheDocument();
  });

  it("refuses files over maxSize or of another type before sending any", async () => {
    const { client, upload, started } = setup();
    const user = userEvent.setup({ applyAccept: false });
    render(
      <ReelkitProvider client={client}>
        <Uploader multiple upload={upload} maxSize={3} />
      </ReelkitProvider>,
    );
    await user.upload(screen.getByLabelText("Choose video files"), [
      new File(["12345"], "big.mp4", { type: "video/mp4" }),
      new File(["1"], "notes.txt", { type: "text/plain" }),
      new File(["1"], "ok.mp4", { type: "video/mp4" }),
    ]);
    expect(screen.getByRole("alert")).toHaveTextContent(/big\.mp4 is 5 B.*notes\.txt is not a file/);
    await user.click(screen.getByRole("button", { name: "Upload" }));
    await waitFor(() => expect(started.map((s) => s.name)).toEqual(["ok.mp4"]));
  });

  it("takes endpoint as the token getter, asked once per file", async () => {
    const { client, upload, started } = setup();
    const endpoint = vi.fn(async ({ file }: { file: unknown }) => `rkut_${(file as File).name}`);
    const user = userEvent.setup();
    render(
      <ReelkitProvider client={client}>
        <Uploader multiple upload={upload} endpoint={endpoint} />
      </ReelkitProvider>,
    );
    await user.upload(screen.getByLabelText("Choose video files"), files("x.mp4", "y.mp4"));
    await user.click(screen.getByRole("button", { name: "Upload 2 files" }));
    await waitFor(() => expect(started).toHaveLength(2));
    expect(await started[0]?.options.getToken?.()).toBe("rkut_x.mp4");
    expect(await started[1]?.options.getToken?.()).toBe("rkut_y.mp4");
  });

  it("uploads every file under StrictMode (its remount aborts the first run, which starts again)", async () => {
    const { client, upload, started } = setup();
    const onReady = vi.fn();
    const user = userEvent.setup();
    render(
      <StrictMode>
        <ReelkitProvider client={client}>
          <Uploader multiple upload={upload} pollIntervalMs={10} onReady={onReady} />
        </ReelkitProvider>
      </StrictMode>,
    );
    await user.upload(screen.getByLabelText("Choose video files"), files("p.mp4", "q.mp4"));
    await user.click(screen.getByRole("button", { name: "Upload 2 files" }));
    await waitFor(() => expect(new Set(started.map((s) => s.name))).toEqual(new Set(["p.mp4", "q.mp4"])));
    // The runs that count are the last one of each file.
    act(() => {
      for (const name of ["p.mp4", "q.mp4"]) started.findLast((s) => s.name === name)?.finish();
    });
    await waitFor(() => expect(onReady).toHaveBeenCalledTimes(2));
    expect(within(row("p.mp4")).getByText("Ready")).toBeInTheDocument();
  });

  it("parses tags as the catalog stores them", () => {
    expect(parseTags(" Sea, trip ,,SEA, ")).toEqual(["sea", "trip"]);
  });
});
