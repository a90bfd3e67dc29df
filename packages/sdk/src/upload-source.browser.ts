/**
 * The browser build's `upload-source.ts`: browsers upload a File/Blob, and this copy imports
 * no Node built-in, so bundlers need no polyfill or "externalized" shim for `fs`/`buffer`.
 */
import { isBlob, type PreparedSource, type UploadSource } from "./upload-source-types.js";

export async function prepareSource(file: UploadSource): Promise<PreparedSource> {
  if (isBlob(file)) return { input: file, size: file.size };
  throw new TypeError("uploadVideo: in the browser, pass a File or Blob (paths, Buffers and streams need Node)");
}
