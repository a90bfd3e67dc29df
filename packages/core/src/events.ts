import { type Static, type TSchema, Type } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";

/**
 * The bus event catalogue: every topic with its payload schema. Server and transcoder agree on
 * these and nothing else; the TypeScript types are derived from the schemas, and every bus
 * checks payloads against them when publishing and when receiving. Delivery is at-least-once;
 * every payload carries `videoId` + `attempt` so handlers can ignore stale or duplicate messages.
 */

const VideoRef = {
  videoId: Type.String({ minLength: 1 }),
  /** Increments each time the video is (re)queued; outputs and events of older attempts are stale. */
  attempt: Type.Integer({ minimum: 0 }),
};

/**
 * A source to transcode. Its playable phase: the transcoder makes the video watchable as cheaply
 * as it can, then queues the ladder phase (`video.transcode.ladder`, same payload).
 */
export const VideoUploadedSchema = Type.Object({
  ...VideoRef,
  /** Storage key of the original file, `videos/<id>/source`. */
  sourceKey: Type.String({ minLength: 1 }),
  /** Whose upload it is: jobs are shared fairly between owners. Absent: one anonymous owner. */
  ownerId: Type.Optional(Type.String({ minLength: 1 })),
});
export type VideoUploaded = Static<typeof VideoUploadedSchema>;

/** The ladder phase of a video whose playable phase is published: every remaining rung, images, ready. */
export const TranscodeLadderSchema = VideoUploadedSchema;
export type TranscodeLadder = Static<typeof TranscodeLadderSchema>;

export const TranscodeProgressSchema = Type.Object({
  ...VideoRef,
  /** 0..100 over the whole job (probe, encode, images, playlists). */
  percent: Type.Number({ minimum: 0, maximum: 100 }),
  stage: Type.Union([
    Type.Literal("probing"),
    Type.Literal("encoding"),
    Type.Literal("images"),
    Type.Literal("finalizing"),
  ]),
});
export type TranscodeProgress = Static<typeof TranscodeProgressSchema>;

export const RenditionSchema = Type.Object({
  /** Rung name, e.g. "720p". */
  name: Type.String(),
  width: Type.Integer({ minimum: 1 }),
  height: Type.Integer({ minimum: 1 }),
  /** Peak bits per second incl. audio, as written in the master playlist. */
  bandwidth: Type.Number({ minimum: 0 }),
  averageBandwidth: Type.Number({ minimum: 0 }),
  codecs: Type.String(),
  frameRate: Type.Number({ minimum: 0 }),
  /** Storage key of the variant playlist. */
  playlistKey: Type.String(),
});
export type Rendition = Static<typeof RenditionSchema>;

export const TranscodeReadySchema = Type.Object({
  ...VideoRef,
  durationSec: Type.Number({ minimum: 0 }),
  width: Type.Integer({ minimum: 1 }),
  height: Type.Integer({ minimum: 1 }),
  frameRate: Type.Number({ minimum: 0 }),
  hasAudio: Type.Boolean(),
  renditions: Type.Array(RenditionSchema, { minItems: 1 }),
  masterKey: Type.String(),
  posterKey: Type.String(),
  storyboardKey: Type.String(),
  storyboardVttKey: Type.String(),
  /**
   * The source's own chapters (MP4/Matroska chapter metadata, `probeChapters`), sorted by start;
   * kept by the catalog unless the owner has set chapters already. Absent from older workers.
   */
  chapters: Type.Optional(
    Type.Array(Type.Object({ title: Type.String(), startTime: Type.Number({ minimum: 0 }) }), { maxItems: 500 }),
  ),
});
export type TranscodeReady = Static<typeof TranscodeReadySchema>;

/**
 * The video can be watched while it is still processing: the master playlist is stored, and
 * every rendition it names has at least its first segment (the media playlists keep growing).
 * Rates in `renditions` are nominal until `video.transcode.ready` brings measured ones.
 */
export const TranscodePlayableSchema = Type.Object({
  ...VideoRef,
  masterKey: Type.String(),
  durationSec: Type.Number({ minimum: 0 }),
  width: Type.Integer({ minimum: 1 }),
  height: Type.Integer({ minimum: 1 }),
  frameRate: Type.Number({ minimum: 0 }),
  hasAudio: Type.Boolean(),
  renditions: Type.Array(RenditionSchema, { minItems: 1 }),
  /** True when the top rendition is the source's own video stream, copied. */
  passthrough: Type.Boolean(),
});
export type TranscodePlayable = Static<typeof TranscodePlayableSchema>;

export const TranscodeFailedSchema = Type.Object({
  ...VideoRef,
  /** Stable machine-readable cause. */
  code: Type.Union([
    Type.Literal("UNDECODABLE"),
    Type.Literal("NO_VIDEO_STREAM"),
    Type.Literal("EMPTY_SOURCE"),
    Type.Literal("SOURCE_MISSING"),
    Type.Literal("TRANSCODE_ERROR"),
  ]),
  /** A sentence the video's owner can read. */
  reason: Type.String({ minLength: 1 }),
});
export type TranscodeFailed = Static<typeof TranscodeFailedSchema>;

/** What a webhook endpoint may subscribe to: the changes of a video third parties hear of. */
export const WEBHOOK_EVENT_TYPES = [
  "video.created",
  "video.uploaded",
  "video.playable",
  "video.ready",
  "video.failed",
  "video.updated",
  "video.deleted",
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];
const WebhookEventTypeSchema = Type.Union([
  Type.Literal("video.created"),
  Type.Literal("video.uploaded"),
  Type.Literal("video.playable"),
  Type.Literal("video.ready"),
  Type.Literal("video.failed"),
  Type.Literal("video.updated"),
  Type.Literal("video.deleted"),
]);
// Fails to compile when the list and the schema disagree.
const eventTypesAgree: [Static<typeof WebhookEventTypeSchema>] extends [WebhookEventType]
  ? [WebhookEventType] extends [Static<typeof WebhookEventTypeSchema>]
    ? true
    : false
  : false = true;
void eventTypesAgree;

/**
 * A change of a video for its owner's webhooks, written to the outbox in the transaction of the
 * change it describes. `id` is the `webhook-id` every delivery of it carries (retries included);
 * `video` is the catalog row as it was after the change (dates as ISO strings, big integers as
 * strings), turned into the API's JSON when the message is delivered.
 */
export const VideoEventSchema = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 100 }),
  type: WebhookEventTypeSchema,
  videoId: Type.String({ minLength: 1 }),
  ownerId: Type.String({ minLength: 1 }),
  occurredAt: Type.String({ minLength: 1 }),
  video: Type.Record(Type.String(), Type.Unknown()),
});
export type VideoEvent = Static<typeof VideoEventSchema>;

/** Topic -> payload schema: the one definition of every bus message. */
export const EVENT_SCHEMAS = {
  "video.uploaded": VideoUploadedSchema,
  "video.transcode.ladder": TranscodeLadderSchema,
  "video.transcode.progress": TranscodeProgressSchema,
  "video.transcode.playable": TranscodePlayableSchema,
  "video.transcode.ready": TranscodeReadySchema,
  "video.transcode.failed": TranscodeFailedSchema,
  "video.event": VideoEventSchema,
} satisfies Record<string, TSchema>;

export type EventPayloads = { [T in keyof typeof EVENT_SCHEMAS]: Static<(typeof EVENT_SCHEMAS)[T]> };

export type Topic = keyof EventPayloads;

export const TOPICS = Object.keys(EVENT_SCHEMAS) as Topic[];

export function isTopic(value: string): value is Topic {
  return Object.hasOwn(EVENT_SCHEMAS, value);
}

/** A payload that does not match its topic's schema (or an unknown topic). */
export class InvalidMessageError extends Error {
  constructor(
    readonly topic: string,
    message: string,
  ) {
    super(`invalid ${topic} message: ${message}`);
    this.name = "InvalidMessageError";
  }
}

const checkers = Object.fromEntries(
  Object.entries(EVENT_SCHEMAS).map(([topic, schema]) => [topic, TypeCompiler.Compile(schema)]),
) as { [T in Topic]: ReturnType<typeof TypeCompiler.Compile<(typeof EVENT_SCHEMAS)[T]>> };

/** Checks `payload` against the schema of `topic`; throws InvalidMessageError naming the first problem. */
export function validatePayload<T extends Topic>(topic: T, payload: unknown): EventPayloads[T];
export function validatePayload(topic: string, payload: unknown): EventPayloads[Topic];
export function validatePayload(topic: string, payload: unknown): EventPayloads[Topic] {
  if (!isTopic(topic)) throw new InvalidMessageError(topic, "unknown topic");
  const checker = checkers[topic];
  if (!checker.Check(payload)) {
    const first = checker.Errors(payload).First();
    throw new InvalidMessageError(topic, first ? `${first.path || "/"} ${first.message}` : "does not match its schema");
  }
  return payload as EventPayloads[Topic];
}

/** A message on the bus: the discriminated union of every topic with its payload. */
export type BusMessage = { [T in Topic]: { topic: T; key: string; payload: EventPayloads[T] } }[Topic];

/** What a consumer is told about the delivery it is handling. */
export interface DeliveryContext {
  /**
   * Aborted when the consumer stops (the message is handed back to the bus) or loses its
   * lease (another consumer has it now). A handler that did not finish its work then throws.
   */
  signal: AbortSignal;
  /** 1 for the first delivery, counting redeliveries after crashes and failures. */
  deliveryAttempt: number;
  /** When the message was published (the broker's timestamp, the job's row), when known. */
  enqueuedAt?: Date;
}

/**
 * Handles one message. Resolving acknowledges it; throwing makes the bus deliver it again
 * (with backoff) until it is parked after the configured number of attempts.
 */
export type Handler<T extends Topic> = (payload: EventPayloads[T], ctx: DeliveryContext) => Promise<void>;

/** One handler per topic a consumer listens to. */
export type HandlerMap = { [T in Topic]?: Handler<T> };
