import { ReelkitApiError } from "@reelkit/sdk";
import type { Meta, StoryObj } from "@storybook/react-vite";
import { useState } from "react";
import { fn } from "storybook/test";
import { fakeCatalogClient, processingThenReady, simulatedUpload } from "../../../.storybook/fakes.js";
import { ReelkitProvider } from "./context.js";
import { Uploader, UploaderView, type UploaderViewProps } from "./uploader.js";

/**
 * Every state of the uploader, rendered through `UploaderView` (the markup <Uploader> itself
 * renders), plus a live <Uploader> driven by a simulated upload and an in-memory catalog.
 */
const meta = {
  title: "Components/Uploader",
  component: UploaderView,
  parameters: { layout: "padded" },
  decorators: [(Story) => <div style={{ maxWidth: 520 }}>{Story()}</div>],
  args: {
    state: { phase: "idle", progress: null, processingProgress: 0, error: null },
    fileName: null,
    title: "",
    description: "",
    dragging: false,
    onPick: fn(),
    onTitleChange: fn(),
    onDescriptionChange: fn(),
    onDraggingChange: fn(),
    onSubmit: fn(),
    onPause: fn(),
    onResume: fn(),
    onCancel: fn(),
    onRetry: fn(),
  },
} satisfies Meta<typeof UploaderView>;

export default meta;
type Story = StoryObj<typeof meta>;

const MB = 1024 * 1024;
const uploading = (percent: number): UploaderViewProps["state"] => ({
  phase: "uploading",
  progress: {
    bytesSent: (percent / 100) * 48 * MB,
    bytesTotal: 48 * MB,
    percent,
    speedBps: 2.5 * MB,
    etaSeconds: (((100 - percent) / 100) * 48 * MB) / (2.5 * MB),
  },
  processingProgress: 0,
  error: null,
});

export const Idle: Story = {};

export const FileChosen: Story = {
  args: { fileName: "holiday.mp4", title: "holiday", description: "Two weeks by the sea" },
};

export const Dragging: Story = {
  args: { dragging: true },
};

/** Visibility and tags chosen at upload (`chooseVisibility`, `chooseTags`). */
export const WithPickers: Story = {
  args: {
    fileName: "holiday.mp4",
    title: "holiday",
    visibility: "PRIVATE",
    onVisibilityChange: fn(),
    tags: "sea, summer",
    onTagsChange: fn(),
  },
};

export const Uploading: Story = {
  args: { state: uploading(42), fileName: "holiday.mp4", title: "holiday" },
};

export const Paused: Story = {
  args: {
    state: {
      ...uploading(63),
      phase: "paused",
      progress: { ...uploading(63).progress!, speedBps: 0, etaSeconds: null },
    },
    fileName: "holiday.mp4",
    title: "holiday",
  },
};

export const UploadError: Story = {
  name: "Error",
  args: {
    state: {
      ...uploading(17),
      phase: "error",
      error: new Error("The connection to the server was lost"),
    },
    fileName: "holiday.mp4",
    title: "holiday",
  },
};

/** An API error is worded by its code; no Retry where retrying cannot help (the file is too large). */
export const RefusedTooLarge: Story = {
  args: {
    state: {
      ...uploading(0),
      phase: "error",
      error: new ReelkitApiError({ status: 413, code: "UPLOAD_TOO_LARGE", message: "This upload token allows…" }),
    },
    fileName: "holiday.mp4",
    title: "holiday",
  },
};

/** The file picked was refused before any byte was sent (`maxSize`, `accept`). */
export const FileRefused: Story = {
  args: { notice: "holiday.mov is 3.2 GB; the largest file accepted is 2.0 GB." },
};

/** Uploaded, but the server could not process it: no Retry, Upload another instead. */
export const ProcessingFailed: Story = {
  args: {
    state: {
      phase: "failed",
      progress: uploading(100).progress,
      processingProgress: 0,
      error: new Error("No video stream in the file"),
    },
    fileName: "holiday.mp4",
    title: "holiday",
    onReset: fn(),
  },
};

export const Processing: Story = {
  args: {
    state: { phase: "processing", progress: uploading(100).progress, processingProgress: 57, error: null },
    fileName: "holiday.mp4",
    title: "holiday",
  },
};

/** Watchable already (its playable phase is done); the rest of the ladder is still encoding. */
export const ProcessingMoreQualities: Story = {
  args: {
    state: {
      phase: "processing",
      progress: uploading(100).progress,
      processingProgress: 64,
      transcodePhase: "ladder",
      error: null,
    },
    fileName: "holiday.mp4",
    title: "holiday",
  },
};

export const Done: Story = {
  args: {
    state: { phase: "done", progress: uploading(100).progress, processingProgress: 100, error: null },
    fileName: "holiday.mp4",
    title: "holiday",
    onReset: fn(),
  },
};

/**
 * The real <Uploader>: pick or drop any file, press Upload. The upload is simulated at 4 MB/s
 * (8 MB, pause/resume/cancel work), then the in-memory catalog processes for 3 s and is ready.
 */
export const Live: StoryObj<typeof Uploader> = {
  render: () => <LiveUploader bytesPerSecond={4 * MB} />,
};

/** The real <Uploader> whose simulated upload fails at 30 %: Retry starts it again. */
export const LiveFailing: StoryObj<typeof Uploader> = {
  render: () => <LiveUploader bytesPerSecond={8 * MB} failAtPercent={30} />,
};

/** Client and uploader are made once per mounted story, not on every render. */
function LiveUploader(props: { bytesPerSecond: number; failAtPercent?: number }) {
  const [client] = useState(() => fakeCatalogClient(processingThenReady(3)));
  const [upload] = useState(() => simulatedUpload(props));
  return (
    <ReelkitProvider client={client}>
      <Uploader upload={upload} pollIntervalMs={250} />
    </ReelkitProvider>
  );
}
