export * from "./client.js";
export * from "./contract.js";
export * from "./errors.js";
export * from "./player.js";
export * from "./storyboard.js";
export * from "./upload.js";
export * from "./watch.js";
