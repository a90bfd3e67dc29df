/**
 * <VideoPlayer> from the built @reelkit/react, configured by the query string, for
 * test/browser/player.test.ts. The ref handle is `window.player`; media events are logged in
 * `window.playerEvents`.
 */
import { VideoPlayer, type VideoPlayerHandle, type VideoPlayerProps } from "@reelkit/react";
import "@reelkit/react/styles.css";
import { createRoot } from "react-dom/client";

declare global {
  interface Window {
    player: VideoPlayerHandle | null;
    playerEvents: string[];
  }
}

const query = new URLSearchParams(location.search);
const autoPlay = query.get("autoPlay");
const track = query.get("track");
window.playerEvents = [];
const log = (name: string) => () => void window.playerEvents.push(name);

const props: VideoPlayerProps = {
  src: query.get("src") ?? "./sample/hls/master.m3u8",
  poster: "./sample/poster.jpg",
  title: "Test pattern",
  autoPlay: autoPlay === "true" ? true : ((autoPlay as VideoPlayerProps["autoPlay"]) ?? undefined),
  crossOrigin: (query.get("crossOrigin") as VideoPlayerProps["crossOrigin"]) ?? undefined,
  tracks: track ? [{ src: track, srclang: "en", label: "English", default: true }] : undefined,
  chapters: [
    { title: "Opening", startTime: 0 },
    { title: "Middle", startTime: 4 },
  ],
  onPlay: log("play"),
  onPause: log("pause"),
  onEnded: log("ended"),
  onTimeUpdate: log("timeupdate"),
  onSeeking: log("seeking"),
  onWaiting: log("waiting"),
  onError: log("error"),
  onLoadedMetadata: log("loadedmetadata"),
  onRateChange: log("ratechange"),
  onVolumeChange: log("volumechange"),
  onQualityChange: log("qualitychange"),
};

const root = document.getElementById("root");
if (root) {
  createRoot(root).render(
    <div style={{ maxWidth: 640 }}>
      <VideoPlayer
        {...props}
        ref={(handle) => {
          window.player = handle;
        }}
      />
    </div>,
  );
}
