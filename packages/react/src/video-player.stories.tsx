import { attachPlayer } from "@reelkit/sdk";
import type { Meta, StoryObj } from "@storybook/react-vite";
import { useState } from "react";
import { fakeCatalogClient, makeVideo, SAMPLE } from "../../../.storybook/fakes.js";
import { ReelkitProvider } from "./context.js";
import { VideoPlayer, type VideoPlayerProps } from "./video-player.js";

/**
 * <VideoPlayer> on the real HLS sample (scripts/storybook-sample.ts: a lavfi clip transcoded by
 * Reelkit into a 360p + 180p ladder with a master playlist), and its loading and error states.
 */
const meta = {
  title: "Components/VideoPlayer",
  component: VideoPlayer,
  decorators: [(Story) => <div style={{ maxWidth: 640 }}>{Story()}</div>],
} satisfies Meta<typeof VideoPlayer>;

export default meta;
type Story = StoryObj<typeof meta>;

// Module-level so their identity is stable: the player re-attaches when `attach` changes.
/** Browsers only autoplay muted media without a user gesture; the sample has a tone. */
const mutedAttach: typeof attachPlayer = (video, url, options) => {
  (video as HTMLVideoElement).muted = true;
  return attachPlayer(video, url, options);
};
const neverAttaches: typeof attachPlayer = () => new Promise(() => undefined);
const unsupported: typeof attachPlayer = () =>
  Promise.reject(
    new Error("This browser cannot play HLS: neither Media Source Extensions nor native HLS are available"),
  );

export const Playing: Story = {
  args: { src: SAMPLE.master, poster: SAMPLE.poster, autoPlay: true, attach: mutedAttach },
};

/** Attached and buffered but not started: the poster shows until play. */
export const Poster: Story = {
  args: { src: SAMPLE.master, poster: SAMPLE.poster },
};

/** Hover the seek bar: the preview shows the storyboard tile (sprite + WebVTT map) for that time. */
export const StoryboardThumbnails: Story = {
  name: "Storyboard thumbnails",
  args: { src: SAMPLE.master, poster: SAMPLE.poster, storyboard: SAMPLE.storyboardVtt },
};

/** A captions file as a `<track>`: the CC menu lists it, and it shows while playing. */
export const Captions: Story = {
  args: {
    src: SAMPLE.master,
    poster: SAMPLE.poster,
    autoPlay: true,
    attach: mutedAttach,
    captions: [{ src: SAMPLE.captionsEn, srclang: "en", label: "English", default: true }],
  },
};

/** Title bar, chapter markers on the seek bar, a custom accent colour and a 4:3 box. */
export const ChaptersAndTheme: Story = {
  name: "Chapters, title and theme",
  args: {
    src: SAMPLE.master,
    poster: SAMPLE.poster,
    title: "Test pattern",
    accentColor: "#0ea5e9",
    aspectRatio: "4 / 3",
    chapters: [
      { title: "Opening", startTime: 0 },
      { title: "Middle", startTime: 4 },
      { title: "Ending", startTime: 8 },
    ],
  },
};

/** `autoPlay="muted"` at 1.5× speed with only two speeds offered. */
export const AutoplayMutedFast: Story = {
  name: "Autoplay muted at 1.5×",
  args: { src: SAMPLE.master, poster: SAMPLE.poster, autoPlay: "muted", playbackRate: 1.5, playbackRates: [1, 1.5] },
};

/** The player factory never settles (a slow network): the loading status stays up. */
export const Loading: Story = {
  args: { src: SAMPLE.master, poster: SAMPLE.poster, attach: neverAttaches },
};

/** The master playlist answers 404: hls.js reports a fatal network error. */
export const PlaylistNotFound: Story = {
  name: "Error (playlist 404)",
  args: { src: "./sample/missing/master.m3u8", poster: SAMPLE.poster },
};

/** The player factory rejects, as it does in a browser with neither MSE nor native HLS. */
export const Unsupported: Story = {
  name: "Error (no HLS support)",
  args: { src: SAMPLE.master, attach: unsupported },
};

/** `videoId` mode: the catalog video (from an in-memory catalog) is ready and plays. */
export const CatalogReady: Story = {
  name: "Catalog video: ready",
  render: (args) => <CatalogPlayer {...args} video={makeVideo()} />,
  args: { autoPlay: true, attach: mutedAttach },
};

/** `videoId` mode while the video is still being transcoded. */
export const CatalogProcessing: Story = {
  name: "Catalog video: processing",
  render: (args) => (
    <CatalogPlayer
      {...args}
      video={makeVideo({ status: "PROCESSING", progress: 40, playable: false, playbackUrl: null })}
    />
  ),
};

/** `videoId` mode for a video whose transcode failed: the owner sees the reason. */
export const CatalogFailed: Story = {
  name: "Catalog video: failed",
  render: (args) => (
    <CatalogPlayer
      {...args}
      video={makeVideo({
        status: "FAILED",
        progress: 0,
        playable: false,
        playbackUrl: null,
        posterUrl: null,
        failureReason: "The file has no video stream (an audio-only file).",
      })}
    />
  ),
};

/** `videoId` mode for an id the catalog does not know. */
export const CatalogNotFound: Story = {
  name: "Catalog video: not found",
  render: (args) => <CatalogPlayer {...args} video={null} />,
};

function CatalogPlayer({ video, ...props }: VideoPlayerProps & { video: ReturnType<typeof makeVideo> | null }) {
  const [client] = useState(() => fakeCatalogClient(() => video));
  return (
    <ReelkitProvider client={client}>
      <VideoPlayer {...props} videoId={video?.id ?? "00000000-0000-4000-8000-00000000dead"} />
    </ReelkitProvider>
  );
}
