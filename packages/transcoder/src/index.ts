export * from "./ffmpeg-args.js";
export * from "./ffmpeg-runner.js";
export * from "./images.js";
export * from "./ladder.js";
export * from "./playlist.js";
export * from "./probe.js";
export * from "./transcoder.js";
