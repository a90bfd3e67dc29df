import type { Meta, StoryObj } from "@storybook/react-vite";
import { useState } from "react";
import { fn } from "storybook/test";
import { fakeCatalogClient, processingThenReady, simulatedUpload } from "../../../.storybook/fakes.js";
import { ReelkitProvider } from "./context.js";
import { UploadItemView, type UploadItemViewProps } from "./upload-queue.js";
import { Uploader } from "./uploader.js";

/** `<Uploader multiple>`: one row per file, each with its own progress, state and buttons. */
const meta = {
  title: "Components/Uploader queue",
  component: UploadItemView,
  parameters: { layout: "padded" },
  decorators: [(Story) => <div style={{ maxWidth: 520 }}>{Story()}</div>],
  args: {
    fileName: "holiday.mp4",
    queued: false,
    state: { phase: "idle", progress: null, processingProgress: 0, error: null },
    onPause: fn(),
    onResume: fn(),
    onCancel: fn(),
    onRetry: fn(),
  },
} satisfies Meta<typeof UploadItemView>;

export default meta;
type Story = StoryObj<typeof meta>;

const MB = 1024 * 1024;
const progress = (percent: number, speedBps = 2 * MB) => ({
  bytesSent: (percent / 100) * 20 * MB,
  bytesTotal: 20 * MB,
  percent,
  speedBps,
  etaSeconds: speedBps > 0 ? (((100 - percent) / 100) * 20 * MB) / speedBps : null,
});
const rows: (Omit<UploadItemViewProps, "onPause" | "onResume" | "onCancel" | "onRetry"> & { key: string })[] = [
  {
    key: "a",
    fileName: "beach.mp4",
    queued: false,
    state: { phase: "uploading", progress: progress(40), processingProgress: 0, error: null },
  },
  {
    key: "b",
    fileName: "forest.mp4",
    queued: false,
    state: { phase: "paused", progress: progress(25, 0), processingProgress: 0, error: null },
  },
  {
    key: "c",
    fileName: "city.mp4",
    queued: true,
    state: { phase: "idle", progress: null, processingProgress: 0, error: null },
  },
  {
    key: "d",
    fileName: "night.mp4",
    queued: false,
    state: {
      phase: "processing",
      progress: progress(100),
      processingProgress: 30,
      transcodePhase: "ladder",
      error: null,
    },
  },
  {
    key: "e",
    fileName: "dawn.mp4",
    queued: false,
    state: { phase: "done", progress: progress(100), processingProgress: 100, error: null },
  },
  {
    key: "f",
    fileName: "notes.mp4",
    queued: false,
    state: {
      phase: "failed",
      progress: progress(100),
      processingProgress: 0,
      error: new Error("No video stream in the file"),
    },
  },
  {
    key: "g",
    fileName: "lost.mp4",
    queued: false,
    state: {
      phase: "error",
      progress: progress(10),
      processingProgress: 0,
      error: new Error("The connection was lost"),
    },
  },
];

/** Every row state at once, as a batch in flight shows them. */
export const States: Story = {
  render: (args) => (
    <ul className="rk-upload-list" aria-label="Uploads">
      {rows.map(({ key, ...row }) => (
        <UploadItemView key={key} {...args} {...row} />
      ))}
    </ul>
  ),
};

/** The real `<Uploader multiple>`: pick several files; two upload at once (simulated), the rest queue. */
export const LiveMultiple: StoryObj<typeof Uploader> = {
  render: () => <LiveQueue />,
};

function LiveQueue() {
  const [client] = useState(() => fakeCatalogClient(processingThenReady(3)));
  const [upload] = useState(() => simulatedUpload({ bytesPerSecond: 2 * MB }));
  return (
    <ReelkitProvider client={client}>
      <Uploader multiple concurrency={2} chooseVisibility chooseTags upload={upload} pollIntervalMs={250} />
    </ReelkitProvider>
  );
}
