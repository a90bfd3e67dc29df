import path from "node:path";
import type { Storage } from "@reelkit/core";
import { isStreamableCoding } from "./passthrough.js";
import { type Binaries, type ProbeResult, probeFile, probeKeyframes } from "./probe.js";

/** A job's input failed before any decoding: the owner is told why, the job is not retried. */
export class SourceError extends Error {
  constructor(
    readonly code: "SOURCE_MISSING" | "EMPTY_SOURCE",
    message: string,
  ) {
    super(message);
    this.name = "SourceError";
  }
}

export interface ReadSource {
  /** A local file ffmpeg can read. */
  file: string;
  /** Bytes of the stored source. */
  size: number;
  probe: ProbeResult;
  /** Source keyframe times; read only for a source whose coding may pass through, else empty. */
  keyframes: number[];
}

/**
 * Finds the stored source, makes it a local file (in place on local storage, a copy in `work`
 * otherwise) and probes it. Keyframes (read from the packet index, no decoding) matter only for
 * sources that may pass through: they are read beside the probe and the read is stopped for
 * the others.
 */
export async function readSource(opts: {
  storage: Storage;
  sourceKey: string;
  bin: Binaries;
  /** The job's work directory, for a copy of a remote source. */
  work: string;
  signal: AbortSignal;
}): Promise<ReadSource> {
  const { storage, sourceKey, bin, signal } = opts;
  const stat = await storage.stat(sourceKey);
  if (!stat) throw new SourceError("SOURCE_MISSING", "The uploaded file could not be found.");
  if (stat.size === 0) throw new SourceError("EMPTY_SOURCE", "The uploaded file is empty.");
  // Keys are immutable per video, so nothing rewrites a local source while ffmpeg reads it.
  let file = storage.localPath(sourceKey);
  if (!file) {
    file = path.join(opts.work, "source");
    await storage.getToFile(sourceKey, file);
  }
  const keyframeRead = new AbortController();
  const keyframesRead = probeKeyframes(bin.ffprobe, file, AbortSignal.any([signal, keyframeRead.signal])).catch(
    () => [] as number[],
  );
  let keyframes: number[] = [];
  let probe: ProbeResult;
  try {
    probe = await probeFile(bin.ffprobe, file, signal);
    if (isStreamableCoding(probe) === null) keyframes = await keyframesRead;
  } finally {
    keyframeRead.abort(new Error("keyframes not needed"));
    await keyframesRead;
  }
  return { file, size: stat.size, probe, keyframes };
}
