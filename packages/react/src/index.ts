export { ReelkitProvider, type ReelkitProviderProps, useReelkitClient } from "./context.js";
export { formatBytes, formatEta } from "./format.js";
export {
  CaptionsMenu,
  FullscreenButton,
  type MenuPartProps,
  PictureInPictureButton,
  PlayButton,
  type PlayerPartProps,
  QualityMenu,
  SpeedMenu,
  TimeDisplay,
  VolumeControl,
} from "./player/controls.js";
export { MenuButton, type MenuButtonProps, type MenuItem } from "./player/menu-button.js";
export { type Chapter, chapterAt, SeekBar, type SeekBarProps } from "./player/seek-bar.js";
export {
  type AutoPlay,
  type MediaEventProps,
  type PlayerActions,
  type PlayerState,
  type QualityChange,
  type UsePlayerOptions,
  type UsePlayerResult,
  usePlayer,
} from "./player/use-player.js";
export {
  DEFAULT_PLAYBACK_RATES,
  type PlayerControls,
  type PlayerMenu,
  type UsePlayerControlsOptions,
  usePlayerControls,
} from "./player/use-player-controls.js";
export { useStoryboard } from "./player/use-storyboard.js";
export { type CaptionTrack, type TextTracksState, useTextTracks } from "./player/use-text-tracks.js";
export { acceptsFile, canRetryUpload, uploadErrorMessage, waitingInLine } from "./upload-messages.js";
export {
  ChoicesFields,
  type ChoicesFieldsProps,
  DEFAULT_UPLOAD_CONCURRENCY,
  parseTags,
  UploadItemView,
  type UploadItemViewProps,
} from "./upload-queue.js";
export { Uploader, type UploaderProps, UploaderView, type UploaderViewProps } from "./uploader.js";
export {
  type StartUploadOptions,
  type UploadPhase,
  type UploadState,
  type UploadTokenRequest,
  type UseUploadOptions,
  useUpload,
} from "./use-upload.js";
export { type UseVideoOptions, type UseVideoResult, useVideo } from "./use-video.js";
export { type UseVideosQuery, type UseVideosResult, useVideos } from "./use-videos.js";
export {
  type CaptionSource,
  type TextTrackSource,
  VideoPlayer,
  type VideoPlayerHandle,
  type VideoPlayerProps,
} from "./video-player.js";
