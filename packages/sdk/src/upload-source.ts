/**
 * What tus-js-client reads an upload from, for every source the sdk accepts: a File/Blob and, in
 * Node, a path, a Buffer or a readable (file) stream. Browser builds replace this module with
 * `upload-source.browser.ts` (see tsup.config.ts), so bundlers never meet a Node built-in.
 */
import { isBlob, type PreparedSource, type UploadSource } from "./upload-source-types.js";

export async function prepareSource(file: UploadSource, size?: number): Promise<PreparedSource> {
  if (isBlob(file)) return { input: file, size: file.size };
  if (file instanceof Uint8Array) {
    // tus-js-client's Node reader takes a Buffer.
    const { Buffer } = await import("node:buffer");
    return { input: Buffer.from(file.buffer, file.byteOffset, file.byteLength), size: file.byteLength };
  }
  if (typeof file === "string") {
    const fs = await import("node:fs");
    const stat = await fs.promises.stat(file);
    return { input: fs.createReadStream(file), size: stat.size };
  }
  if (file.path) {
    const fs = await import("node:fs");
    const stat = await fs.promises.stat(typeof file.path === "string" ? file.path : Buffer.from(file.path));
    return { input: file, size: stat.size };
  }
  if (size === undefined) throw new TypeError("uploadVideo: pass options.size for a stream that is not a file");
  return { input: file, size };
}
