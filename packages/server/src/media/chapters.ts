import { createHash } from "node:crypto";
import type { Chapter } from "@reelkit/sdk/contract";
import type { Video } from "../generated/prisma/client.js";
import { vttTime } from "./captions.js";

export function storedChapters(v: Pick<Video, "chapters">): Chapter[] {
  return (Array.isArray(v.chapters) ? v.chapters : []) as unknown as Chapter[];
}

/** Why a chapter list is refused, or null when it is fine: strictly increasing starts, all inside the duration. */
export function chapterProblem(chapters: readonly Chapter[], durationSec: number): string | null {
  for (const [i, c] of chapters.entries()) {
    if (c.title.trim() === "") return `chapters[${i}]: the title is blank`;
    if (c.startTime >= durationSec) {
      return `chapters[${i}]: starts at ${c.startTime} s, at or past the end of the video (${durationSec} s)`;
    }
    const before = chapters[i - 1];
    if (before && c.startTime <= before.startTime) {
      return `chapters[${i}]: starts at ${c.startTime} s, not after the chapter before it (${before.startTime} s)`;
    }
  }
  return null;
}

/** A short tag of a chapter list, for the URL of its WebVTT track (a new list, a new URL). */
export function chaptersVersion(chapters: readonly Chapter[]): string {
  return createHash("sha256").update(JSON.stringify(chapters)).digest("base64url").slice(0, 12);
}

/** The WebVTT chapters track: each chapter lasts until the next one, the last until the end. */
export function writeChaptersVtt(chapters: readonly Chapter[], durationSec: number): string {
  const blocks = chapters.map((c, i) => {
    const end = chapters[i + 1]?.startTime ?? Math.max(durationSec, c.startTime + 0.001);
    return `${i + 1}\n${vttTime(c.startTime)} --> ${vttTime(end)}\n${escapeText(c.title.trim())}\n`;
  });
  return `WEBVTT\n\n${blocks.join("\n")}`;
}

/** Chapter titles are plain text: every `&`, `<` and `>` escaped. */
function escapeText(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
