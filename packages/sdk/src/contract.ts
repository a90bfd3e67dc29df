/**
 * The HTTP contract of the Reelkit API: one TypeBox schema per request and response.
 * The server validates with these and generates its OpenAPI document from them; the SDK takes
 * its types from them. Change a shape here and both sides follow.
 */
import { type Static, Type } from "@sinclair/typebox";
import { HANDLE_PATTERN } from "./contract-constants.js";

/** HANDLE_PATTERN in either case: input is lower-cased before it is stored. */
const HANDLE_INPUT_PATTERN = HANDLE_PATTERN.replaceAll("a-z", "A-Za-z");

// Plain values (no TypeBox) live in their own module so browser code can import them alone.
export * from "./contract-constants.js";

import { WEBHOOK_EVENT_TYPES, type WebhookEventType } from "./contract-constants.js";

export const VideoStatus = Type.Union(
  [
    Type.Literal("UPLOADING"),
    Type.Literal("QUEUED"),
    Type.Literal("PROCESSING"),
    Type.Literal("READY"),
    Type.Literal("FAILED"),
  ],
  { $id: "VideoStatus" },
);
export type VideoStatus = Static<typeof VideoStatus>;

export const Rendition = Type.Object(
  {
    name: Type.String({ description: 'Rung name, e.g. "720p"' }),
    width: Type.Integer(),
    height: Type.Integer(),
    bandwidth: Type.Integer({ description: "Peak bits per second, audio included" }),
    averageBandwidth: Type.Integer(),
    codecs: Type.String(),
    frameRate: Type.Number(),
  },
  { $id: "Rendition" },
);
export type Rendition = Static<typeof Rendition>;

export const Visibility = Type.Union([Type.Literal("PUBLIC"), Type.Literal("UNLISTED"), Type.Literal("PRIVATE")], {
  $id: "Visibility",
  description:
    "PUBLIC: listed and searchable; UNLISTED: plays by link; PRIVATE: only its owner, through signed media URLs",
});
export type Visibility = Static<typeof Visibility>;

const Nullable = <T extends import("@sinclair/typebox").TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/** The channel a video belongs to, as its cards and watch page name it. */
export const ChannelRef = Type.Object(
  {
    /** `/c/<handle>` on the demo site; `GET /api/channels/<handle>`. */
    handle: Type.String(),
    name: Type.String(),
    /** A square image (256 px); null when the user uploaded none. */
    avatarUrl: Nullable(Type.String()),
  },
  { $id: "ChannelRef" },
);
export type ChannelRef = Static<typeof ChannelRef>;

/**
 * Where a video's transcode stands: `queued` (waiting for a transcoder), `playable` (in its
 * playable phase: being made watchable), `ladder` (watchable; more qualities coming), `complete`
 * (READY, every quality); null while uploading or once FAILED.
 */
export const TranscodePhase = Nullable(
  Type.Union([Type.Literal("queued"), Type.Literal("playable"), Type.Literal("ladder"), Type.Literal("complete")]),
);
export type TranscodePhase = Static<typeof TranscodePhase>;
/**
 * While a video waits for a transcoder (`phase` `queued`): its place in line, 1 being the next
 * to start (videos are taken in fair turns between owners, see docs/scheduling.md); null
 * otherwise.
 */
export const QueuePosition = Nullable(Type.Integer({ minimum: 1 }));
/** subtitles: the dialogue in a language; captions: for viewers who cannot hear it (sounds too). */
export const CaptionKind = Type.Union([Type.Literal("subtitles"), Type.Literal("captions")], { $id: "CaptionKind" });
export type CaptionKind = Static<typeof CaptionKind>;

/** A BCP 47 language tag such as "en", "pt-BR" or "zh-Hant". */
const LanguageTag = Type.String({ minLength: 2, maxLength: 35, pattern: "^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*$" });

/** One text track of a video; it plays in the HLS master playlist's SUBTITLES group too. */
export const CaptionTrack = Type.Object(
  {
    language: Type.String({ description: "BCP 47 language tag; one track per language" }),
    label: Type.String({ description: "Shown in the player's captions menu" }),
    kind: CaptionKind,
    default: Type.Boolean({ description: "Shown without the viewer choosing it (at most one track)" }),
    url: Type.String({ description: "The whole track as one WebVTT file (for a <track> element)" }),
    cueCount: Type.Integer({ minimum: 1 }),
    createdAt: Type.String({ format: "date-time" }),
  },
  { $id: "CaptionTrack" },
);
export type CaptionTrack = Static<typeof CaptionTrack>;

export const CaptionTrackList = Type.Object({ items: Type.Array(CaptionTrack) }, { $id: "CaptionTrackList" });
export type CaptionTrackList = Static<typeof CaptionTrackList>;

/** `POST /api/videos/:id/captions`: the file is the body (`text/vtt` or `application/x-subrip`). */
export const AddCaptionQuery = Type.Object(
  {
    language: LanguageTag,
    /** The menu label; the language tag when absent. */
    label: Type.Optional(Type.String({ minLength: 1, maxLength: 100, pattern: '^[^\\u0000-\\u001f"]*$' })),
    kind: Type.Optional(CaptionKind),
    /** Makes this the video's default track (and no other). */
    default: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type AddCaptionQuery = Static<typeof AddCaptionQuery>;

export const CaptionParams = Type.Object({ id: Type.String(), language: LanguageTag });
export type CaptionParams = Static<typeof CaptionParams>;

/** A chapter: its title and where it starts (seconds); it lasts until the next one. */
export const Chapter = Type.Object(
  {
    title: Type.String({ minLength: 1, maxLength: 200, pattern: "^[^\\u0000-\\u001f]*$" }),
    startTime: Type.Number({ minimum: 0, maximum: 31_536_000 }),
  },
  { $id: "Chapter" },
);
export type Chapter = Static<typeof Chapter>;

/** `PUT /api/videos/:id/chapters`: the whole list (sorted, inside the duration; empty clears it). */
export const SetChaptersBody = Type.Object(
  { chapters: Type.Array(Chapter, { maxItems: 500 }) },
  { additionalProperties: false },
);
export type SetChaptersBody = Static<typeof SetChaptersBody>;

/** `GET /api/videos/:id/download`: which rendition (its name, e.g. "720p"); the top one by default. */
export const DownloadQuery = Type.Object(
  {
    quality: Type.Optional(Type.String({ minLength: 1, maxLength: 20, pattern: "^[A-Za-z0-9_-]+$" })),
    token: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);
export type DownloadQuery = Static<typeof DownloadQuery>;

/** The widths and heights images are made at (a bounded set, so no cache can be flooded). */
export const IMAGE_SIZES = [64, 90, 120, 160, 180, 240, 320, 360, 480, 640, 720, 960, 1080, 1280, 1920] as const;
/** The frame rates of animated previews. */
export const ANIMATED_FPS = [5, 10, 12, 15, 20, 24, 25, 30] as const;

const imageSize = (what: string, max: number) =>
  Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: max,
      description: `${what} in pixels, one of ${IMAGE_SIZES.filter((s) => s <= max).join(", ")}`,
    }),
  );

/**
 * `GET /media/videos/:id/thumbnail.{jpg,webp}`: a frame at any time from the best rendition.
 * Width 640 when neither size is given; `crop` and `pad` need both.
 */
export const ThumbnailQuery = Type.Object({
  time: Type.Optional(
    Type.Number({ minimum: 0, description: "Seconds from the start (rounded to 0.1 s); the middle by default" }),
  ),
  width: imageSize("Width", 1920),
  height: imageSize("Height", 1920),
  fit: Type.Optional(
    Type.Union([Type.Literal("preserve"), Type.Literal("crop"), Type.Literal("pad")], {
      description: "preserve (default): inside the box; crop: fills it; pad: inside it with black bars",
    }),
  ),
});
export type ThumbnailQuery = Static<typeof ThumbnailQuery>;

/** `GET /media/videos/:id/animated.webp`: a looping hover preview of at most 10 s. */
export const AnimatedQuery = Type.Object({
  start: Type.Optional(Type.Number({ minimum: 0, description: "Seconds (rounded to 0.1 s); 0 by default" })),
  end: Type.Optional(
    Type.Number({ minimum: 0, description: "Seconds, after start, at most 10 s later; start + 5 s by default" }),
  ),
  fps: Type.Optional(
    Type.Integer({ minimum: 1, maximum: 30, description: `Frames per second, one of ${ANIMATED_FPS.join(", ")}` }),
  ),
  width: imageSize("Width (320 when neither size is given)", 640),
  height: imageSize("Height", 640),
});
export type AnimatedQuery = Static<typeof AnimatedQuery>;

/** A video's image route (`/media/videos/:id/…`). */
export const MediaImageParams = Type.Object({ id: Type.String() });
/** A PRIVATE video's image route, under its signed prefix (`/media/s/:token/videos/:id/…`). */
export const SignedMediaImageParams = Type.Object({ token: Type.String(), id: Type.String() });

export const ChapterList = Type.Object({ chapters: Type.Array(Chapter) }, { $id: "ChapterList" });
export type ChapterList = Static<typeof ChapterList>;

export const Video = Type.Object(
  {
    id: Type.String({ format: "uuid" }),
    title: Type.String(),
    description: Type.String(),
    filename: Nullable(Type.String()),
    /** The user who uploaded it; null for videos from before accounts existed. */
    ownerId: Nullable(Type.String()),
    visibility: Visibility,
    status: VideoStatus,
    /** 0..100: upload progress while UPLOADING, transcode progress while PROCESSING. */
    progress: Type.Number({ minimum: 0, maximum: 100 }),
    failureReason: Nullable(Type.String()),
    duration: Nullable(Type.Number({ description: "Seconds" })),
    width: Nullable(Type.Integer()),
    height: Nullable(Type.Integer()),
    renditions: Type.Array(Rendition),
    playable: Type.Boolean({
      description:
        "True once the video can be watched: READY, or still PROCESSING with every rendition started (the HLS playlists grow until READY)",
    }),
    /** Always sent by the server; optional for clients of older servers. */
    phase: Type.Optional(TranscodePhase),
    /** Always sent by the server; optional for clients of older servers. */
    queuePosition: Type.Optional(QueuePosition),
    playbackUrl: Nullable(Type.String({ description: "HLS master playlist, once playable" })),
    posterUrl: Nullable(Type.String()),
    /**
     * The time (seconds) of the frame its owner chose as the poster; null for the transcoder's.
     * Always sent by the server; optional for clients of older servers.
     */
    posterTime: Type.Optional(Nullable(Type.Number())),
    /**
     * A frame at any time once READY (`?time=…&width=…&height=…&fit=…`, see ThumbnailQuery); the
     * same path's `animated.webp` is a hover preview (AnimatedQuery). Null before READY.
     * Always sent by the server; optional for clients of older servers.
     */
    thumbnailUrl: Type.Optional(Nullable(Type.String())),
    storyboardUrl: Nullable(Type.String()),
    storyboardVttUrl: Nullable(Type.String()),
    createdAt: Type.String({ format: "date-time" }),
    updatedAt: Type.String({ format: "date-time" }),
    publishedAt: Nullable(Type.String({ format: "date-time" })),
    tags: Type.Array(Type.String()),
    /** Playback sessions counted for this video (see POST /api/videos/:id/views). */
    viewCount: Type.Integer({ minimum: 0 }),
    /**
     * The owner's channel. The server's video replies always carry it (null for a video without
     * an owner); optional so that clients may build videos of their own.
     */
    channel: Type.Optional(Nullable(ChannelRef)),
    /** The integrating site's own value from the upload token (opaque to Reelkit); null when none. */
    passthrough: Nullable(Type.String()),
    /** Text tracks, also in the master playlist's SUBTITLES group. */
    captions: Type.Array(CaptionTrack),
    /** Chapters sorted by start time (empty when none). */
    chapters: Type.Array(Chapter),
    /** WebVTT chapters track of `chapters`, null when there are none. */
    chaptersVttUrl: Nullable(Type.String()),
    /** Whether anyone who can watch it may download it as an MP4 (its owner always can). */
    downloads: Type.Boolean(),
  },
  { $id: "Video" },
);
export type Video = Static<typeof Video>;

export const VideoList = Type.Object(
  {
    items: Type.Array(Video),
    /** Pass as `cursor` to get the next page; null on the last page. */
    nextCursor: Nullable(Type.String()),
  },
  { $id: "VideoList" },
);
export type VideoList = Static<typeof VideoList>;

/**
 * Text PostgreSQL can store: anything but NUL (a `text` column rejects U+0000), so such input
 * is a 400 VALIDATION_FAILED rather than a database error.
 */
const NO_NUL = "^[^\\u0000]*$";

/** List orders; `relevance` (the default with `q`) only applies to a search. */
export const VideoSort = Type.Union(
  [
    Type.Literal("relevance"),
    Type.Literal("newest"),
    Type.Literal("oldest"),
    Type.Literal("longest"),
    Type.Literal("views"),
  ],
  {
    description:
      "relevance (search only, its default), newest (the list default), oldest, longest, views (most viewed)",
  },
);
export type VideoSort = Static<typeof VideoSort>;

/** short: under 4 minutes, medium: 4 to 20 minutes, long: over 20 minutes. */
export const DurationFilter = Type.Union([Type.Literal("short"), Type.Literal("medium"), Type.Literal("long")]);
export type DurationFilter = Static<typeof DurationFilter>;

/** A tag: 1–40 characters, stored lower-case. */
const Tag = Type.String({ minLength: 1, maxLength: 40, pattern: "^[^\\u0000,]*$" });

export const ListVideosQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
    cursor: Type.Optional(Type.String({ maxLength: 512, pattern: NO_NUL })),
    /** Full-text search on title and description, typo-tolerant; results ranked by relevance. */
    q: Type.Optional(Type.String({ minLength: 1, maxLength: 200, pattern: NO_NUL })),
    sort: Type.Optional(VideoSort),
    duration: Type.Optional(DurationFilter),
    /** Seconds, inclusive. */
    minDuration: Type.Optional(Type.Number({ minimum: 0, maximum: 31_536_000 })),
    /** Seconds, exclusive. */
    maxDuration: Type.Optional(Type.Number({ minimum: 0, maximum: 31_536_000 })),
    /** ISO 8601 date or date-time: published at or after. */
    publishedAfter: Type.Optional(Type.String({ maxLength: 40, pattern: NO_NUL })),
    /** ISO 8601 date or date-time: published before. */
    publishedBefore: Type.Optional(Type.String({ maxLength: 40, pattern: NO_NUL })),
    /** Minimum video height in pixels (720 for HD). */
    minHeight: Type.Optional(Type.Integer({ minimum: 1, maximum: 8640 })),
    /** Comma-separated tags; a video must have every one. */
    tags: Type.Optional(Type.String({ minLength: 1, maxLength: 500, pattern: NO_NUL })),
    /** Owner (account id) of the videos. */
    owner: Type.Optional(Type.String({ minLength: 1, maxLength: 200, pattern: NO_NUL })),
    /** The signed-in caller's own videos, any status and visibility (needs a user). */
    mine: Type.Optional(
      Type.Union([Type.Literal("1"), Type.Literal("true"), Type.Literal("0"), Type.Literal("false")]),
    ),
  },
  { additionalProperties: false },
);
export type ListVideosQuery = Static<typeof ListVideosQuery>;

export const VideoParams = Type.Object({ id: Type.String() });
export type VideoParams = Static<typeof VideoParams>;

export const UpdateVideoBody = Type.Object(
  {
    title: Type.Optional(Type.String({ minLength: 1, maxLength: 200, pattern: NO_NUL })),
    description: Type.Optional(Type.String({ maxLength: 5000, pattern: NO_NUL })),
    visibility: Type.Optional(Visibility),
    /** Replaces the video's tags (stored trimmed and lower-case, duplicates dropped). */
    tags: Type.Optional(Type.Array(Tag, { maxItems: 20 })),
    /** Lets viewers download the video as an MP4 (`GET /api/videos/:id/download`). */
    downloads: Type.Optional(Type.Boolean()),
    /**
     * Makes the frame at this time (seconds, rounded to 0.1 s, under the duration) the poster
     * everywhere the video is shown; null goes back to the transcoder's poster. READY videos only.
     */
    posterTime: Type.Optional(Nullable(Type.Number({ minimum: 0 }))),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateVideoBody = Static<typeof UpdateVideoBody>;

/** `POST /api/videos/:id/views`: one playback session started watching. */
export const RecordViewBody = Type.Object(
  {
    /** A random id the player makes once per playback session; repeats of it count once. */
    session: Type.String({ minLength: 8, maxLength: 100, pattern: "^[A-Za-z0-9_-]+$" }),
  },
  { additionalProperties: false },
);
export type RecordViewBody = Static<typeof RecordViewBody>;

/**
 * `GET /api/videos/:id` (and its views and events): `token` is an embed token from
 * `GET /api/videos/:id/embed`, which lets a PRIVATE video be read without its owner's session.
 */
export const VideoReadQuery = Type.Object({
  token: Type.Optional(Type.String({ maxLength: 200, description: "An embed token of this video (PRIVATE videos)" })),
});
export type VideoReadQuery = Static<typeof VideoReadQuery>;

/** `GET /api/videos/:id/embed`: how long a PRIVATE video's embed link lasts. */
export const EmbedLinkQuery = Type.Object(
  {
    /** Seconds; default 30 days, at most a year. Ignored for PUBLIC and UNLISTED videos (no expiry). */
    expiresIn: Type.Optional(Type.Integer({ minimum: 60, maximum: 31_536_000 })),
  },
  { additionalProperties: false },
);
export type EmbedLinkQuery = Static<typeof EmbedLinkQuery>;

export const EmbedLink = Type.Object(
  {
    /** `/embed/:id` on this server; `?token=…` for a PRIVATE video. */
    url: Type.String(),
    /** The `<iframe>` snippet for a page. */
    html: Type.String(),
    /** When the token stops working; null for PUBLIC and UNLISTED videos. */
    expiresAt: Nullable(Type.String({ format: "date-time" })),
  },
  { $id: "EmbedLink" },
);
export type EmbedLink = Static<typeof EmbedLink>;

/** `GET /api/oembed` (oEmbed 1.0): `url` is a watch or embed page of this server. */
export const OEmbedQuery = Type.Object({
  url: Type.String({ minLength: 1, maxLength: 2000 }),
  maxwidth: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
  maxheight: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
  /** Only "json"; "xml" (or anything else) is 501, as the oEmbed spec asks. */
  format: Type.Optional(Type.String({ maxLength: 20 })),
});
export type OEmbedQuery = Static<typeof OEmbedQuery>;

export const OEmbed = Type.Object(
  {
    type: Type.Literal("video"),
    version: Type.Literal("1.0"),
    title: Type.String(),
    provider_name: Type.String(),
    provider_url: Type.String(),
    html: Type.String(),
    width: Type.Integer(),
    height: Type.Integer(),
    thumbnail_url: Type.Optional(Type.String()),
    thumbnail_width: Type.Optional(Type.Integer()),
    thumbnail_height: Type.Optional(Type.Integer()),
  },
  { $id: "OEmbed" },
);
export type OEmbed = Static<typeof OEmbed>;

export const SuggestionsQuery = Type.Object(
  {
    /** The start of a title, as typed so far. */
    q: Type.String({ minLength: 1, maxLength: 100, pattern: NO_NUL }),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 20, default: 8 })),
  },
  { additionalProperties: false },
);
export type SuggestionsQuery = Static<typeof SuggestionsQuery>;

export const Suggestions = Type.Object(
  { suggestions: Type.Array(Type.String(), { description: "Distinct READY titles, most viewed first" }) },
  { $id: "Suggestions" },
);
export type Suggestions = Static<typeof Suggestions>;

/** Server-Sent Event `status` on `/api/videos/:id/events`. */
export const VideoStatusEvent = Type.Object(
  {
    videoId: Type.String(),
    status: VideoStatus,
    progress: Type.Number(),
    failureReason: Nullable(Type.String()),
    /** True once `playbackUrl` plays (see `Video.playable`). */
    playable: Type.Boolean(),
    /** See `Video.phase`: `ladder` is "playable — more qualities coming". */
    phase: Type.Optional(TranscodePhase),
    /** See `Video.queuePosition`. */
    queuePosition: Type.Optional(QueuePosition),
  },
  { $id: "VideoStatusEvent" },
);
export type VideoStatusEvent = Static<typeof VideoStatusEvent>;

export const ErrorBody = Type.Object(
  {
    error: Type.Object({
      code: Type.String(),
      message: Type.String(),
    }),
  },
  { $id: "ErrorBody" },
);
export type ErrorBody = Static<typeof ErrorBody>;

/** One account mail (password reset, address verification) as the server's local outbox keeps it. */
export const OutboxMail = Type.Object(
  {
    id: Type.Integer(),
    from: Type.String(),
    to: Type.String(),
    subject: Type.String(),
    /** Plain text, its links written out. */
    text: Type.String(),
    sentAt: Type.String({ format: "date-time" }),
  },
  { $id: "OutboxMail" },
);
export type OutboxMail = Static<typeof OutboxMail>;

/**
 * `GET /api/admin/mail`: where the server's mails go ("smtp": `SMTP_URL`; "outbox": the log
 * and this list) and, for the outbox, its last mails, newest first.
 */
export const MailOutbox = Type.Object(
  { delivery: Type.Union([Type.Literal("smtp"), Type.Literal("outbox")]), items: Type.Array(OutboxMail) },
  { $id: "MailOutbox" },
);
export type MailOutbox = Static<typeof MailOutbox>;

/** "full": the key acts as its user (catalog reads and edits, upload tokens); "upload": it only mints upload tokens. */
export const ApiKeyScope = Type.Union([Type.Literal("full"), Type.Literal("upload")], { $id: "ApiKeyScope" });
export type ApiKeyScope = Static<typeof ApiKeyScope>;

const ApiKeyName = Type.String({ minLength: 1, maxLength: 100, pattern: NO_NUL });
/** Unfinished uploads of the key's upload tokens at once; null: the server's default. */
const KeyMaxUnfinished = Nullable(Type.Integer({ minimum: 1, maximum: 100_000 }));
/** Uploads the key's upload tokens may create per minute; null: the server's default. */
const KeyPerMinute = Nullable(Type.Integer({ minimum: 1, maximum: 100_000 }));

export const CreateApiKeyBody = Type.Object(
  {
    name: ApiKeyName,
    /** Default "full". */
    scope: Type.Optional(ApiKeyScope),
    maxUnfinishedUploads: Type.Optional(KeyMaxUnfinished),
    uploadsPerMinute: Type.Optional(KeyPerMinute),
  },
  { additionalProperties: false },
);
export type CreateApiKeyBody = Static<typeof CreateApiKeyBody>;

/** An API key as listed: never the key itself, only its first characters. */
export const ApiKey = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    /** The key's first characters (`rk_…`), to tell keys apart. */
    prefix: Type.String(),
    createdAt: Type.String({ format: "date-time" }),
    lastUsedAt: Nullable(Type.String({ format: "date-time" })),
    revokedAt: Nullable(Type.String({ format: "date-time" })),
    scope: ApiKeyScope,
    maxUnfinishedUploads: KeyMaxUnfinished,
    uploadsPerMinute: KeyPerMinute,
  },
  { $id: "ApiKey" },
);
export type ApiKey = Static<typeof ApiKey>;

/** A new API key: `key` is shown this once and never again. */
export const CreatedApiKey = Type.Object(
  {
    ...ApiKey.properties,
    /** The key itself: shown in this response only. */
    key: Type.String(),
  },
  { $id: "CreatedApiKey" },
);
export type CreatedApiKey = Static<typeof CreatedApiKey>;

export const ApiKeyList = Type.Object({ items: Type.Array(ApiKey) });
export type ApiKeyList = Static<typeof ApiKeyList>;

/** `PATCH /api/api-keys/:id`: rename a key or change its limits (null: back to the server's default). */
export const UpdateApiKeyBody = Type.Object(
  {
    name: Type.Optional(ApiKeyName),
    maxUnfinishedUploads: Type.Optional(KeyMaxUnfinished),
    uploadsPerMinute: Type.Optional(KeyPerMinute),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateApiKeyBody = Static<typeof UpdateApiKeyBody>;

/** A content type an upload token allows: `video/mp4`, or a whole family such as `video/*`. */
const ContentTypePattern = Type.String({
  minLength: 3,
  maxLength: 100,
  pattern: "^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/(\\*|[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*)$",
});

export const CreateUploadTokenBody = Type.Object(
  {
    /** Who owns the video (account id); the API key's own user when absent (another user: admin keys only). */
    owner: Type.Optional(Type.String({ minLength: 1, maxLength: 200, pattern: NO_NUL })),
    /** Largest upload in bytes; the server's REELKIT_MAX_UPLOAD_SIZE when absent (never more). */
    maxSize: Type.Optional(Type.Integer({ minimum: 1 })),
    /** Seconds the token stays valid for creating and continuing its upload (default 3600, at most 86400). */
    expiresIn: Type.Optional(Type.Integer({ minimum: 1, maximum: 86_400 })),
    /** The video's title (replaces what the browser sends). */
    title: Type.Optional(Type.String({ minLength: 1, maxLength: 200, pattern: NO_NUL })),
    /** The video's description (replaces what the browser sends). */
    description: Type.Optional(Type.String({ maxLength: 5000, pattern: NO_NUL })),
    /** The video's visibility; UNLISTED when absent (an upload from another site is not listed unless asked). */
    visibility: Type.Optional(Visibility),
    /** The video's tags (stored trimmed and lower-case, duplicates dropped). */
    tags: Type.Optional(Type.Array(Tag, { maxItems: 20 })),
    /**
     * Content types the upload may declare (its `filetype` metadata, which the SDK sends from the
     * File): exact (`video/mp4`) or a family (`video/*`). Any when absent; an upload declaring
     * none is refused when this is set.
     */
    contentTypes: Type.Optional(Type.Array(ContentTypePattern, { minItems: 1, maxItems: 20 })),
    /** Your own value (a user or record id, say), kept on the video and returned with it and in webhooks. */
    passthrough: Type.Optional(Type.String({ maxLength: 255, pattern: NO_NUL })),
  },
  { additionalProperties: false },
);
export type CreateUploadTokenBody = Static<typeof CreateUploadTokenBody>;

/** An upload token for one browser upload (`Authorization: Bearer rkut_…` on tus requests). */
export const UploadToken = Type.Object({
  token: Type.String(),
  owner: Type.String(),
  maxSize: Type.Integer(),
  expiresAt: Type.String({ format: "date-time" }),
  title: Nullable(Type.String()),
  description: Nullable(Type.String()),
  visibility: Visibility,
  tags: Type.Array(Type.String()),
  /** Empty: any content type. */
  contentTypes: Type.Array(Type.String()),
  passthrough: Nullable(Type.String()),
  /** Where the browser sends the upload (tus creation URL). */
  uploadUrl: Type.String(),
});
export type UploadToken = Static<typeof UploadToken>;

const WebhookEvent = Type.Union([
  Type.Literal("video.created"),
  Type.Literal("video.uploaded"),
  Type.Literal("video.playable"),
  Type.Literal("video.ready"),
  Type.Literal("video.failed"),
  Type.Literal("video.updated"),
  Type.Literal("video.deleted"),
]);
// Fails to compile when WEBHOOK_EVENT_TYPES and the schema disagree.
const webhookEventsAgree: [Static<typeof WebhookEvent>] extends [WebhookEventType]
  ? [WebhookEventType] extends [Static<typeof WebhookEvent>]
    ? true
    : false
  : false = true;
void webhookEventsAgree;
const WebhookUrl = Type.String({ minLength: 1, maxLength: 2000, pattern: "^https?://[^\\u0000\\s]+$" });

export const CreateWebhookBody = Type.Object(
  {
    /** Where events are POSTed (http or https; loopback and private addresses are refused). */
    url: WebhookUrl,
    /** The event types to receive, at least one. */
    events: Type.Array(WebhookEvent, { minItems: 1, maxItems: WEBHOOK_EVENT_TYPES.length, uniqueItems: true }),
  },
  { additionalProperties: false },
);
export type CreateWebhookBody = Static<typeof CreateWebhookBody>;

export const UpdateWebhookBody = Type.Object(
  {
    url: Type.Optional(WebhookUrl),
    events: Type.Optional(
      Type.Array(WebhookEvent, { minItems: 1, maxItems: WEBHOOK_EVENT_TYPES.length, uniqueItems: true }),
    ),
    /** false stops deliveries; true resumes them (pending events go at once) and clears `disabledReason`. */
    enabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type UpdateWebhookBody = Static<typeof UpdateWebhookBody>;

/** A webhook endpoint as listed: never its secret. */
export const WebhookEndpoint = Type.Object(
  {
    id: Type.String(),
    url: Type.String(),
    events: Type.Array(WebhookEvent),
    enabled: Type.Boolean(),
    /** Why deliveries stopped (its owner disabled it, or they kept failing), while disabled. */
    disabledReason: Nullable(Type.String()),
    disabledAt: Nullable(Type.String({ format: "date-time" })),
    createdAt: Type.String({ format: "date-time" }),
    updatedAt: Type.String({ format: "date-time" }),
  },
  { $id: "WebhookEndpoint" },
);
export type WebhookEndpoint = Static<typeof WebhookEndpoint>;

/** A new endpoint: `secret` (`whsec_…`, to verify signatures) is in this response only. */
export const CreatedWebhookEndpoint = Type.Object(
  { ...WebhookEndpoint.properties, secret: Type.String() },
  { $id: "CreatedWebhookEndpoint" },
);
export type CreatedWebhookEndpoint = Static<typeof CreatedWebhookEndpoint>;

export const WebhookEndpointList = Type.Object({ items: Type.Array(WebhookEndpoint) });
export type WebhookEndpointList = Static<typeof WebhookEndpointList>;

/** One event for one endpoint and its attempts. */
export const WebhookDelivery = Type.Object(
  {
    id: Type.String(),
    /** The `webhook-id` header of every attempt of this event (retries and redeliveries included). */
    webhookId: Type.String(),
    type: WebhookEvent,
    videoId: Type.String(),
    status: Type.Union([Type.Literal("PENDING"), Type.Literal("DELIVERED"), Type.Literal("FAILED")]),
    attempts: Type.Integer(),
    /** When the next attempt is due, while PENDING. */
    nextAttemptAt: Nullable(Type.String({ format: "date-time" })),
    lastAttemptAt: Nullable(Type.String({ format: "date-time" })),
    /** The receiver's HTTP status on the last attempt; null when there was no answer. */
    lastStatusCode: Nullable(Type.Integer()),
    lastError: Nullable(Type.String()),
    createdAt: Type.String({ format: "date-time" }),
    deliveredAt: Nullable(Type.String({ format: "date-time" })),
    /** The body sent (`{ type, timestamp, data }`). */
    payload: Type.Unknown(),
  },
  { $id: "WebhookDelivery" },
);
export type WebhookDelivery = Static<typeof WebhookDelivery>;

export const WebhookDeliveryList = Type.Object({
  items: Type.Array(WebhookDelivery),
  /** Pass as `before` for older deliveries; null on the last page. */
  nextCursor: Nullable(Type.String()),
});
export type WebhookDeliveryList = Static<typeof WebhookDeliveryList>;

export const WebhookDeliveriesQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
    before: Type.Optional(Type.String({ pattern: "^[0-9]{1,19}$" })),
  },
  { additionalProperties: false },
);
export type WebhookDeliveriesQuery = Static<typeof WebhookDeliveriesQuery>;

export const WebhookDeliveryParams = Type.Object({ id: Type.String(), deliveryId: Type.String() });
export type WebhookDeliveryParams = Static<typeof WebhookDeliveryParams>;

/** A user's channel: `GET /api/channels/:handle`. Its videos: `GET /api/videos?owner=<id>`. */
export const Channel = Type.Object(
  {
    /** The user's account id (the `owner` filter of `GET /api/videos`). */
    id: Type.String(),
    handle: Type.String(),
    name: Type.String(),
    description: Type.String(),
    avatarUrl: Nullable(Type.String()),
    createdAt: Type.String({ format: "date-time" }),
  },
  { $id: "Channel" },
);
export type Channel = Static<typeof Channel>;

/** Any string: one that is no handle is simply no channel (404), as `VideoParams` takes any id. */
export const ChannelParams = Type.Object({ handle: Type.String() });
export type ChannelParams = Static<typeof ChannelParams>;

/** `PATCH /api/channels/me`: the caller's own channel. */
export const UpdateChannelBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 100, pattern: "^[^\\u0000]*\\S[^\\u0000]*$" })),
    description: Type.Optional(Type.String({ maxLength: 1000, pattern: NO_NUL })),
    /**
     * A new handle (stored lower-case); the old `/c/<handle>` stops working. 409 HANDLE_TAKEN when
     * another channel has it.
     */
    handle: Type.Optional(Type.String({ minLength: 3, maxLength: 30, pattern: HANDLE_INPUT_PATTERN })),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateChannelBody = Static<typeof UpdateChannelBody>;

/** `GET /api/videos/:id/related`: READY PUBLIC videos like this one (shared tags, similar words). */
export const RelatedVideosQuery = Type.Object({
  ...VideoReadQuery.properties,
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 50, default: 12 })),
});
export type RelatedVideosQuery = Static<typeof RelatedVideosQuery>;
