export * from "./bus/bus.js";
export { InProcessBus } from "./bus/in-process-bus.js";
export * from "./config.js";
export * from "./events.js";
export * from "./logger.js";
export * from "./metrics.js";
export * from "./storage/index.js";
