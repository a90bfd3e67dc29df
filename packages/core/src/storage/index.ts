import path from "node:path";
import type { Config } from "../config.js";
import { LocalStorage } from "./local-storage.js";
import type { Storage } from "./storage.js";

export { LocalStorage } from "./local-storage.js";
export * from "./storage.js";

/** Picks the storage backend for a config: a local directory `<dataDir>/media` today. */
export function createStorage(config: Pick<Config, "dataDir">): Storage {
  return new LocalStorage(path.join(config.dataDir, "media"));
}
