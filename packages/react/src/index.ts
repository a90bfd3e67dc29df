export { ReelkitProvider, type ReelkitProviderProps, useReelkitClient } from "./context.js";
export { formatBytes, formatEta } from "./format.js";
export { Uploader, type UploaderProps, UploaderView, type UploaderViewProps } from "./uploader.js";
export {
  type StartUploadOptions,
  type UploadPhase,
  type UploadState,
  type UseUploadOptions,
  useUpload,
} from "./use-upload.js";
export { type UseVideoOptions, type UseVideoResult, useVideo } from "./use-video.js";
export { type UseVideosQuery, type UseVideosResult, useVideos } from "./use-videos.js";
export { type CaptionSource, VideoPlayer, type VideoPlayerProps } from "./video-player.js";
