export * from "./client.js";
export type * from "./contract.js";
// Types only: the TypeBox schemas stay on "@reelkit/sdk/contract", out of browser bundles.
export * from "./contract-constants.js";
export * from "./embed-messages.js";
export * from "./errors.js";
export * from "./player.js";
export * from "./storyboard.js";
export * from "./upload.js";
export * from "./watch.js";
