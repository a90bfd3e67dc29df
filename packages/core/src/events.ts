/**
 * The bus event catalogue: every topic with its payload. Server and transcoder agree on these
 * and nothing else. Delivery is at-least-once; every payload carries `videoId` + `attempt` so
 * handlers can ignore stale or duplicate messages.
 */

export interface VideoUploaded {
  videoId: string;
  /** Increments each time the video is (re)queued; outputs of older attempts are stale. */
  attempt: number;
  /** Storage key of the original file, `videos/<id>/source`. */
  sourceKey: string;
}

export interface TranscodeProgress {
  videoId: string;
  attempt: number;
  /** 0..100 over the whole job (probe, encode, images, playlists). */
  percent: number;
  stage: "probing" | "encoding" | "images" | "finalizing";
}

export interface Rendition {
  /** Rung name, e.g. "720p". */
  name: string;
  width: number;
  height: number;
  /** Peak bits per second incl. audio, as written in the master playlist. */
  bandwidth: number;
  averageBandwidth: number;
  codecs: string;
  frameRate: number;
  /** Storage key of the variant playlist. */
  playlistKey: string;
}

export interface TranscodeReady {
  videoId: string;
  attempt: number;
  durationSec: number;
  width: number;
  height: number;
  frameRate: number;
  hasAudio: boolean;
  renditions: Rendition[];
  masterKey: string;
  posterKey: string;
  storyboardKey: string;
  storyboardVttKey: string;
}

/**
 * The video can be watched while it is still processing: the master playlist is stored, and
 * every rendition it names has at least its first segment (the media playlists keep growing).
 * Rates in `renditions` are nominal until `video.transcode.ready` brings measured ones.
 */
export interface TranscodePlayable {
  videoId: string;
  attempt: number;
  masterKey: string;
  durationSec: number;
  width: number;
  height: number;
  frameRate: number;
  hasAudio: boolean;
  renditions: Rendition[];
  /** True when the top rendition is the source's own video stream, copied. */
  passthrough: boolean;
}

export interface TranscodeFailed {
  videoId: string;
  attempt: number;
  /** Stable machine-readable cause. */
  code: "UNDECODABLE" | "NO_VIDEO_STREAM" | "EMPTY_SOURCE" | "SOURCE_MISSING" | "TRANSCODE_ERROR";
  /** A sentence the video's owner can read. */
  reason: string;
}

export interface EventPayloads {
  "video.uploaded": VideoUploaded;
  "video.transcode.progress": TranscodeProgress;
  "video.transcode.playable": TranscodePlayable;
  "video.transcode.ready": TranscodeReady;
  "video.transcode.failed": TranscodeFailed;
}

export type Topic = keyof EventPayloads;

export const TOPICS = [
  "video.uploaded",
  "video.transcode.progress",
  "video.transcode.playable",
  "video.transcode.ready",
  "video.transcode.failed",
] as const satisfies readonly Topic[];

/** A message on the bus: the discriminated union of every topic with its payload. */
export type BusMessage = { [T in Topic]: { topic: T; key: string; payload: EventPayloads[T] } }[Topic];

export type Handler<T extends Topic> = (payload: EventPayloads[T]) => Promise<void>;

/** One handler per topic a consumer listens to. */
export type HandlerMap = { [T in Topic]?: Handler<T> };
