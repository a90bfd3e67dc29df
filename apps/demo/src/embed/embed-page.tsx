import { useVideo, VideoPlayer, type VideoPlayerHandle } from "@reelkit/react";
import { ReelkitApiError } from "@reelkit/sdk";
import { useEffect, useMemo, useRef } from "react";
import type { EmbedOptions } from "./embed-options.js";
import { connectParent } from "./message-bridge.js";

/**
 * `/embed/:id`: `<VideoPlayer>` alone, filling the frame, driven by the frame's parent through
 * postMessage (see message-bridge.ts).
 */
export function EmbedPage({ options }: { options: EmbedOptions }) {
  const player = useRef<VideoPlayerHandle>(null);
  const { video, error } = useVideo(options.videoId);
  const bridge = useMemo(
    () => connectParent({ videoId: options.videoId, player: () => player.current }),
    [options.videoId],
  );
  useEffect(() => bridge.close, [bridge]);

  const failure = error
    ? error instanceof ReelkitApiError && error.status === 404
      ? "This video is not available."
      : error.message
    : video?.status === "FAILED"
      ? "This video could not be processed."
      : null;
  useEffect(() => {
    if (failure) bridge.send("error", { message: failure });
  }, [failure, bridge]);

  useEffect(() => {
    if (video?.title) document.title = video.title;
  }, [video?.title]);

  if (failure) {
    return (
      <p className="embed-message" role="alert">
        {failure}
      </p>
    );
  }
  return (
    <div className="embed-page">
      <VideoPlayer
        ref={player}
        videoId={options.videoId}
        title={video?.title}
        autoPlay={options.autoPlay}
        muted={options.muted}
        loop={options.loop}
        controls={options.controls}
        startTime={options.startTime}
        onLoadedMetadata={() => bridge.send("ready")}
        onPlay={() => bridge.send("play")}
        onPause={() => bridge.send("pause")}
        onTimeUpdate={() => bridge.send("timeupdate")}
        onEnded={() => bridge.send("ended")}
        onError={() => bridge.send("error", { message: "The video could not be played." })}
      />
    </div>
  );
}
