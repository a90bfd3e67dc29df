import fs, { type FileHandle } from "node:fs/promises";
import { Writable } from "node:stream";

/** ES2024's `ArrayBuffer.prototype.transfer` and `detached`: the project's TypeScript lib is ES2023. */
type TransferableBuffer = ArrayBuffer & { transfer(length: number): ArrayBuffer; readonly detached: boolean };

/**
 * Gives a chunk's memory back at once when the chunk is the whole of its buffer, as every request-body
 * chunk is: Node's HTTP parser copies each one (up to 64 KiB) into memory of its own, which is
 * otherwise freed only when a collection finds the chunk dead, and by then malloc's heap has grown
 * by every chunk received meanwhile (docs/benchmarks.md, 2026-12-08). `transfer(0)` detaches the
 * buffer and frees that memory. A chunk that is part of a larger buffer (Buffer's pool, a slice) is
 * left alone: other views may share it.
 */
export function releaseChunk(chunk: Uint8Array): void {
  const buffer = chunk.buffer;
  if (!(buffer instanceof ArrayBuffer) || chunk.byteOffset !== 0 || chunk.byteLength !== buffer.byteLength) return;
  const transferable = buffer as TransferableBuffer;
  if (!transferable.detached) transferable.transfer(0);
}

/**
 * Writes a stream of chunks into an existing file from `position` (what `fs.createWriteStream` with
 * `flags: "r+"` and `start` does) and releases each chunk (`releaseChunk`) once it is on disk. The
 * chunks must not be read after they are written: the upload path hands them over and keeps none.
 */
export class ChunkFileWriter extends Writable {
  private handle: FileHandle | null = null;

  constructor(
    private readonly file: string,
    private position: number,
  ) {
    super();
  }

  /** The file offset after the last byte written. */
  get offset(): number {
    return this.position;
  }

  override _construct(callback: (err?: Error | null) => void): void {
    fs.open(this.file, "r+").then((handle) => {
      this.handle = handle;
      callback();
    }, callback);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    this.writeAll([chunk]).then(() => callback(), callback);
  }

  override _writev(chunks: { chunk: Buffer }[], callback: (err?: Error | null) => void): void {
    this.writeAll(chunks.map((c) => c.chunk)).then(() => callback(), callback);
  }

  override _final(callback: (err?: Error | null) => void): void {
    this.closeFile().then(() => callback(), callback);
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    this.closeFile().then(
      () => callback(err),
      (closeErr: Error) => callback(err ?? closeErr),
    );
  }

  private async writeAll(buffers: Buffer[]): Promise<void> {
    const handle = this.handle as FileHandle;
    let pending = buffers;
    while (pending.length > 0) {
      const { bytesWritten } = await handle.writev(pending, this.position);
      if (bytesWritten === 0) throw new Error(`no byte written to ${this.file} at ${this.position}`);
      this.position += bytesWritten;
      pending = afterBytes(pending, bytesWritten);
    }
    for (const buffer of buffers) releaseChunk(buffer);
  }

  private async closeFile(): Promise<void> {
    const handle = this.handle;
    this.handle = null;
    await handle?.close();
  }
}

/** What is left of `buffers` once their first `count` bytes are written (a short write). */
function afterBytes(buffers: Buffer[], count: number): Buffer[] {
  let skip = count;
  let i = 0;
  while (i < buffers.length && skip >= (buffers[i] as Buffer).length) {
    skip -= (buffers[i] as Buffer).length;
    i++;
  }
  const rest = buffers.slice(i);
  if (skip > 0 && rest.length > 0) rest[0] = (rest[0] as Buffer).subarray(skip);
  return rest;
}
