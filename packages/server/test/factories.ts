import { keys, type TranscodeReady } from "@reelkit/core";

/** The transcoder's ready event for a one-rung (180p) ladder of a 3 s clip. */
export function readyEvent(videoId: string, attempt: number): TranscodeReady {
  return {
    videoId,
    attempt,
    durationSec: 3,
    width: 320,
    height: 180,
    frameRate: 25,
    hasAudio: true,
    renditions: [
      {
        name: "180p",
        width: 320,
        height: 180,
        bandwidth: 300_000,
        averageBandwidth: 250_000,
        codecs: "avc1.64000d,mp4a.40.2",
        frameRate: 25,
        playlistKey: `videos/${videoId}/hls/180p/index.m3u8`,
      },
    ],
    masterKey: keys.master(videoId),
    posterKey: keys.poster(videoId),
    storyboardKey: keys.storyboard(videoId),
    storyboardVttKey: keys.storyboardVtt(videoId),
  };
}
