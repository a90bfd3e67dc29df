import pino, { type DestinationStream, type Logger } from "pino";
import type { Config } from "./config.js";

export type { DestinationStream, Logger };

/** JSON lines on stdout, or on `destination` (tests read them from a stream). */
export function createLogger(
  config: Pick<Config, "logLevel">,
  name = "reelkit",
  destination?: DestinationStream,
): Logger {
  return pino({ name, level: config.logLevel }, destination);
}
