import { keys, type TranscodePlayable, type TranscodeReady } from "@reelkit/core";

/** `video.transcode.playable` for the same single rung as `readyEvent`, with nominal rates. */
export function playableEvent(videoId: string, attempt: number): TranscodePlayable {
  const { posterKey: _p, storyboardKey: _s, storyboardVttKey: _v, ...ready } = readyEvent(videoId, attempt);
  return { ...ready, renditions: ready.renditions.map((r) => ({ ...r, bandwidth: 578_000 })), passthrough: false };
}

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
