import type { Video } from "@reelkit/sdk";

/** 3 -> "0:03", 754 -> "12:34", 3723 -> "1:02:03". */
export function formatDuration(seconds: number): string {
  const total = Math.max(0, Math.round(seconds));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

const STATUS_LABELS: Record<Video["status"], string> = {
  UPLOADING: "Uploading",
  QUEUED: "Queued",
  PROCESSING: "Processing",
  READY: "Ready",
  FAILED: "Failed",
};

export function statusLabel(status: Video["status"]): string {
  return STATUS_LABELS[status];
}

export function formatDate(iso: string): string {
  return new Date(iso).toLocaleDateString(undefined, { year: "numeric", month: "short", day: "numeric" });
}

// English, like the rest of the site's words (the dates below read "3 days ago", not "il y a 3 jours").
const compact = new Intl.NumberFormat("en", { notation: "compact", maximumFractionDigits: 1 });

/** 0 -> "No views", 1 -> "1 view", 1234 -> "1.2K views". */
export function formatViews(count: number): string {
  if (count === 0) return "No views";
  return count === 1 ? "1 view" : `${compact.format(count)} views`;
}

const AGES: [Intl.RelativeTimeFormatUnit, number][] = [
  ["year", 365 * 86_400],
  ["month", 30 * 86_400],
  ["week", 7 * 86_400],
  ["day", 86_400],
  ["hour", 3_600],
  ["minute", 60],
];
const relative = new Intl.RelativeTimeFormat("en", { numeric: "auto" });

/** How long ago, in the largest whole unit: "just now", "5 minutes ago", "yesterday", "2 years ago". */
export function formatAge(iso: string, now = Date.now()): string {
  const seconds = (now - new Date(iso).getTime()) / 1000;
  for (const [unit, size] of AGES) {
    if (seconds >= size) return relative.format(-Math.floor(seconds / size), unit);
  }
  return "just now";
}
