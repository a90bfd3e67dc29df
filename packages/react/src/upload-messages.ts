import { ReelkitApiError } from "@reelkit/sdk";

/** What an upload's failure means to the person uploading, from the API's error code. */
const MESSAGES: Record<string, string> = {
  UPLOAD_TOO_LARGE: "This file is larger than this site accepts.",
  UPLOAD_TYPE_NOT_ALLOWED: "This type of file is not accepted here.",
  UPLOAD_LIMIT_REACHED: "Too many uploads are in progress. Wait for one to finish, then try again.",
  RATE_LIMITED: "Too many uploads in a short time. Wait a minute, then try again.",
  UPLOAD_TOKEN_EXPIRED: "This upload's permission has expired. Start the upload again.",
  UPLOAD_TOKEN_MISMATCH: "This upload was started elsewhere and cannot be continued here. Start it again.",
  UPLOAD_TOKEN_USED: "This upload's permission was already used. Start the upload again.",
  UPLOAD_GONE: "The unfinished upload is gone from the server. Start it again.",
  UNAUTHORIZED: "You are not signed in, or your permission to upload has ended.",
  FORBIDDEN: "You are not allowed to upload here.",
  INSUFFICIENT_STORAGE: "The server is out of space. Try again later.",
  DATABASE_UNAVAILABLE: "The server is busy for a moment. Try again shortly.",
  NETWORK_ERROR: "The server could not be reached. Check your connection and try again.",
};

/** "Waiting — next in line", "Waiting — 3rd in line": a video's place in the transcode queue (1 is next). */
export function waitingInLine(position: number): string {
  if (position <= 1) return "Waiting — next in line";
  const tens = position % 100;
  const suffix =
    tens >= 11 && tens <= 13
      ? "th"
      : (({ 1: "st", 2: "nd", 3: "rd" } as Record<number, string>)[position % 10] ?? "th");
  return `Waiting — ${position}${suffix} in line`;
}

/** A human-readable message for an upload error: by its API code when it has one, else its own message. */
export function uploadErrorMessage(error: Error): string {
  if (error instanceof ReelkitApiError || "code" in error) {
    const code = String((error as { code?: unknown }).code ?? "");
    if (MESSAGES[code]) return MESSAGES[code];
  }
  return error.message;
}

/** Codes that retrying the same upload cannot fix (a new file or new permission is needed). */
export function canRetryUpload(error: Error): boolean {
  const code = String((error as { code?: unknown }).code ?? "");
  return !["UPLOAD_TOO_LARGE", "UPLOAD_TYPE_NOT_ALLOWED", "FORBIDDEN"].includes(code);
}

/** Whether a file passes the client-side `accept` (`video/*`, `.mp4`, `video/mp4`, comma-separated) check. */
export function acceptsFile(file: { name: string; type: string }, accept: string | undefined): boolean {
  if (!accept) return true;
  const type = file.type.toLowerCase();
  const name = file.name.toLowerCase();
  return accept
    .split(",")
    .map((a) => a.trim().toLowerCase())
    .filter(Boolean)
    .some((a) =>
      a.startsWith(".") ? name.endsWith(a) : a.endsWith("/*") ? type.startsWith(a.slice(0, -1)) : type === a,
    );
}
