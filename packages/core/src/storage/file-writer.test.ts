import { randomBytes } from "node:crypto";
import fsCallback from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { READ_CHUNK, writeFileRange } from "./file-writer.js";

let dir: string;
let file: string;
const bytes = randomBytes(READ_CHUNK * 2 + 1000);

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "reelkit-file-writer-"));
  file = path.join(dir, "seg.m4s");
  await fs.writeFile(file, bytes);
});
afterAll(() => fs.rm(dir, { recursive: true, force: true }));

/** A plain descriptor, as LocalStorage.open has (a FileHandle would close itself when collected). */
const open = async (p = file) => fsCallback.openSync(p, "r");
/** Whether this process still has `fd` open on `p` (the number may be reused for another file). */
const isOpenOn = (fd: number, p = file) =>
  fs.readlink(`/proc/self/fd/${fd}`).then(
    (t) => t === p,
    () => false,
  );

/** A writable that copies what it gets, calling back after `delay` ms; `onWrite` sees each chunk. */
function sink(opts: { delay?: number; onWrite?: (chunk: Buffer, index: number) => void } = {}) {
  const chunks: Buffer[] = [];
  const seen: Buffer[] = [];
  const target = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      seen.push(chunk);
      chunks.push(Buffer.from(chunk));
      opts.onWrite?.(chunk, seen.length - 1);
      setTimeout(callback, opts.delay ?? 0);
    },
  });
  return { target, chunks, seen };
}

describe("writeFileRange", () => {
  it("writes the whole file or a range across read-buffer boundaries, then closes the descriptor", async () => {
    const whole = sink();
    let fd = await open();
    await writeFileRange(fd, whole.target, 0, bytes.length - 1);
    expect(Buffer.concat(whole.chunks).equals(bytes)).toBe(true);
    expect(whole.chunks.length).toBe(3);
    expect(await isOpenOn(fd)).toBe(false);

    const part = sink();
    fd = await open();
    await writeFileRange(fd, part.target, READ_CHUNK - 10, READ_CHUNK + 10);
    expect(Buffer.concat(part.chunks).equals(bytes.subarray(READ_CHUNK - 10, READ_CHUNK + 11))).toBe(true);
    expect(await isOpenOn(fd)).toBe(false);
  });

  it("reads every chunk into the same buffer, and the next transfer reuses it", async () => {
    const first = sink();
    await writeFileRange(await open(), first.target, 0, bytes.length - 1);
    const buffers = new Set(first.seen.map((c) => c.buffer));
    expect(buffers.size).toBe(1);
    const second = sink();
    await writeFileRange(await open(), second.target, 0, 99);
    expect(buffers.has(second.seen[0]?.buffer as ArrayBuffer)).toBe(true);
  });

  it("stops reading and closes the descriptor when the target is destroyed mid-way", async () => {
    const fd = await open();
    const cut = sink({ delay: 5, onWrite: (_chunk, i) => i === 0 && setImmediate(() => cut.target.destroy()) });
    await writeFileRange(fd, cut.target, 0, bytes.length - 1);
    expect(cut.chunks.length).toBe(1);
    expect(await isOpenOn(fd)).toBe(false);
  });

  it("does not wait for a write that never calls back once the target is gone, nor reuse its buffer", async () => {
    const fd = await open();
    const held: Buffer[] = [];
    const stuck = new Writable({
      write(chunk: Buffer) {
        held.push(chunk); // never calls back, like a socket that died with the write pending
        setImmediate(() => stuck.destroy());
      },
    });
    await writeFileRange(fd, stuck, 0, bytes.length - 1);
    expect(await isOpenOn(fd)).toBe(false);
    const next = sink();
    await writeFileRange(await open(), next.target, 0, 99);
    expect(next.seen[0]?.buffer).not.toBe(held[0]?.buffer);
    expect(Buffer.concat(next.chunks).equals(bytes.subarray(0, 100))).toBe(true);
  });

  it("writes nothing to a target that was already closed", async () => {
    const fd = await open();
    const gone = sink();
    gone.target.destroy();
    await writeFileRange(fd, gone.target, 0, bytes.length - 1);
    expect(gone.chunks).toEqual([]);
    expect(await isOpenOn(fd)).toBe(false);
  });

  it("rejects when the file is shorter than the range (truncated after it was opened)", async () => {
    const short = path.join(dir, "short.m4s");
    await fs.writeFile(short, bytes);
    const fd = await open(short);
    await fs.truncate(short, 1000);
    const target = sink();
    await expect(writeFileRange(fd, target.target, 0, bytes.length - 1)).rejects.toThrow(/ended at byte 1000/);
    expect(Buffer.concat(target.chunks).equals(bytes.subarray(0, 1000))).toBe(true);
    expect(await isOpenOn(fd, short)).toBe(false);
  });

  it("writes nothing for an empty range and still closes the descriptor", async () => {
    const fd = await open();
    const target = sink();
    await writeFileRange(fd, target.target, 0, -1);
    expect(target.chunks).toEqual([]);
    expect(await isOpenOn(fd)).toBe(false);
  });
});
