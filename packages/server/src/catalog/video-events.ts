import { randomUUID } from "node:crypto";
import type { VideoEvent, WebhookEventType } from "@reelkit/core";
import type { Prisma, Video } from "../generated/prisma/client.js";

/** Columns holding dates and big integers: JSON has neither, so the snapshot writes them as strings. */
const DATE_COLUMNS = ["createdAt", "updatedAt", "publishedAt"] as const satisfies readonly (keyof Video)[];
const BIGINT_COLUMNS = ["sourceSize", "viewCount"] as const satisfies readonly (keyof Video)[];

/** A catalog row as JSON (dates as ISO strings, big integers as decimal strings); every column, new ones included. */
export function videoSnapshot(video: Video): Record<string, unknown> {
  const { search: _search, ...row } = video as Video & { search?: unknown };
  const out: Record<string, unknown> = { ...row };
  for (const column of DATE_COLUMNS) out[column] = video[column] ? video[column].toISOString() : null;
  for (const column of BIGINT_COLUMNS) out[column] = video[column] === null ? null : String(video[column]);
  return out;
}

/** The row a snapshot was taken of. */
export function videoFromSnapshot(snapshot: Record<string, unknown>): Video {
  const row: Record<string, unknown> = { ...snapshot };
  for (const column of DATE_COLUMNS) {
    const value = snapshot[column];
    row[column] = typeof value === "string" ? new Date(value) : null;
  }
  for (const column of BIGINT_COLUMNS) {
    const value = snapshot[column];
    row[column] = typeof value === "string" ? BigInt(value) : null;
  }
  return row as unknown as Video;
}

/** `msg_<uuid>`: the `webhook-id` of an event, on every attempt and redelivery of it. */
export function newEventId(): string {
  return `msg_${randomUUID().replaceAll("-", "")}`;
}

/**
 * Writes the `video.event` outbox row for a change of `video`, in the transaction `tx` that
 * makes the change, so that the event exists exactly when the change does (whatever crashes).
 * Only when someone is to be told: the owner has an enabled endpoint subscribed to `type`, read
 * in the same statement (no further round trip), so the changes of owners without webhooks
 * cost neither an outbox row nor the relay, the bus and the fan-out behind it. An endpoint
 * created or enabled later receives the events written after it, as the fan-out would decide.
 * A video without an owner has nobody to notify: no row.
 */
export async function recordVideoEvent(tx: Prisma.TransactionClient, type: WebhookEventType, video: Video) {
  if (!video.ownerId) return;
  const event: VideoEvent = {
    id: newEventId(),
    type,
    videoId: video.id,
    ownerId: video.ownerId,
    occurredAt: new Date().toISOString(),
    video: videoSnapshot(video),
  };
  await tx.$executeRaw`
    INSERT INTO outbox (topic, key, payload)
    SELECT 'video.event', ${video.id}, ${JSON.stringify(event)}::jsonb
     WHERE EXISTS (
       SELECT 1 FROM webhook_endpoint
        WHERE owner_id = ${video.ownerId} AND disabled_at IS NULL AND ${type} = ANY(events))`;
}
