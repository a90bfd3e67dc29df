/** A File/Blob in browsers; in Node also a path, a Buffer or a readable (file) stream. */
export type UploadSource = Blob | string | Uint8Array | NodeReadableLike;
export interface NodeReadableLike {
  pipe: (...args: never[]) => unknown;
  path?: string | Uint8Array;
}

/** A source in the form tus-js-client reads, with its size in bytes. */
export interface PreparedSource {
  input: unknown;
  size: number;
}

export function isBlob(file: UploadSource): file is Blob {
  return typeof Blob !== "undefined" && file instanceof Blob;
}
