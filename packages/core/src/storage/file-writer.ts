import fs from "node:fs";
import { finished, type Writable } from "node:stream";

/** Bytes per read: a 1 MiB segment in four thread-pool trips. */
export const READ_CHUNK = 256 * 1024;
/** Buffers kept for reuse; past this many concurrent reads the extra ones are left to the GC. */
const POOL_MAX = 64;

const pool: Buffer[] = [];

/**
 * Writes bytes `start..end` (inclusive) of an open file into `target` through read buffers that
 * are reused once their write has completed. A `fs.createReadStream` allocates a new buffer per
 * chunk: at hundreds of MiB/s that external memory makes V8 run a full garbage collection several
 * times a second, and on a server with a large heap those collections cost more than the reads
 * and writes themselves.
 *
 * One chunk is in flight at a time (read, then write, then the next read): the socket's own
 * buffer keeps the connection busy meanwhile, and a slow reader holds one buffer, not a queue.
 * Resolves once the last byte was written (the caller ends `target`) or when `target` closed or
 * failed first (a client that went away); rejects when the file cannot be read or is shorter than
 * `end`. The descriptor is closed in every case, never while a read on it is in flight.
 */
export function writeFileRange(fd: number, target: Writable, start: number, end: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let position = start;
    let buffer: Buffer | null = null;
    let inFlight: "read" | "write" | null = null;
    let stopped = false;
    let settled = false;

    const settle = (err?: Error) => {
      if (settled) return;
      settled = true;
      stopWatching();
      // A buffer whose write never completed may still be referenced by the socket: not reused.
      if (buffer && inFlight !== "write" && pool.length < POOL_MAX) pool.push(buffer);
      buffer = null;
      fs.close(fd, () => (err ? reject(err) : resolve()));
    };

    const next = () => {
      if (stopped || position > end) return settle();
      buffer ??= pool.pop() ?? Buffer.allocUnsafeSlow(READ_CHUNK);
      const chunk = buffer;
      inFlight = "read";
      fs.read(fd, chunk, 0, Math.min(chunk.length, end - position + 1), position, (err, bytesRead) => {
        inFlight = null;
        if (err) return settle(err);
        if (stopped) return settle();
        if (bytesRead === 0) return settle(new Error(`file ended at byte ${position}, before byte ${end}`));
        position += bytesRead;
        inFlight = "write";
        target.write(bytesRead === chunk.length ? chunk : chunk.subarray(0, bytesRead), (writeErr) => {
          if (settled) return;
          inFlight = null;
          if (writeErr) stopped = true;
          next();
        });
      });
    };

    // The target closed or failed before we are done: the client went away. A write still in
    // flight may never call back once the connection is gone, so do not wait for it.
    const stopWatching = finished(target, { readable: false }, () => {
      stopped = true;
      if (inFlight !== "read") settle();
    });

    next();
  });
}
