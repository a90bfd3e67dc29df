import { createHash } from "node:crypto";
import etag from "@fastify/etag";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { type Config, keys, ObjectNotFoundError, type Storage } from "@reelkit/core";
import {
  ErrorBody,
  ListVideosQuery,
  RecordViewBody,
  RelatedVideosQuery,
  Suggestions,
  SuggestionsQuery,
  UpdateVideoBody,
  VideoList,
  VideoParams,
  VideoReadQuery,
  Video as VideoSchema,
  type VideoStatusEvent,
} from "@reelkit/sdk/contract";
import { Type } from "@sinclair/typebox";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { AuthService } from "../auth/auth-service.js";
import { type Catalog, InvalidCursorError, normalizeTags, type Page } from "../catalog/catalog.js";
import type { CatalogFilters } from "../catalog/catalog-query.js";
import type { UpdateInput } from "../catalog/video-edits.js";
import type { Video } from "../generated/prisma/client.js";
import { ImageRequestError, type ImageService, TIME_STEP } from "../media/thumbnails.js";
import type { UploadBackend } from "../uploads/upload-store.js";
import { errors } from "./errors.js";
import { copyReplyHeaders } from "./header-bridge.js";
import { videoAccess } from "./video-access.js";
import { isPlayable, mediaBaseUrl, queuePosition, toApiVideo, transcodePhase } from "./video-mapper.js";

export interface VideoRoutesOptions {
  config: Pick<Config, "publicUrl" | "storage"> & Partial<Pick<Config, "transcodeShares">>;
  storage: Storage;
  catalog: Pick<Catalog, "queries" | "edits" | "changes">;
  auth: AuthService;
  /** The tus store: a video deleted while uploading takes its unfinished upload with it. */
  uploads: Pick<UploadBackend, "discard">;
  /** Makes the poster an owner chooses (`posterTime`); without it `posterTime` is a 501. */
  posters?: Pick<ImageService, "poster">;
}

const HEARTBEAT_MS = 15_000;

function statusEvent(v: Video, queue?: ReadonlyMap<string, number>): VideoStatusEvent {
  return {
    videoId: v.id,
    status: v.status,
    progress: v.progress,
    failureReason: v.failureReason,
    playable: isPlayable(v),
    phase: transcodePhase(v),
    queuePosition: queuePosition(v, queue),
  };
}

/** Shared caches (a CDN) may keep public reads briefly and serve them stale while refetching. */
export const PUBLIC_CACHE = "public, max-age=5, stale-while-revalidate=30";
/** Reads that depend on who asks (own lists, unlisted and private videos): no cache keeps them. */
export const PERSONAL_NO_STORE = "private, no-store";

/**
 * Cache-Control of a read: `public` only for a request without credentials (a token or a
 * session cookie may make the answer per-user) about something that is not still changing.
 */
function cacheFor(request: FastifyRequest, reply: FastifyReply, settled = true): void {
  const personal = request.headers.authorization !== undefined || request.headers.cookie !== undefined;
  reply.header("Cache-Control", personal ? "private, no-cache" : settled ? PUBLIC_CACHE : "no-cache");
}

/** An ISO 8601 date or date-time query parameter; anything else is a 400. */
function parseDate(name: string, raw: string | undefined): Date | undefined {
  if (raw === undefined) return undefined;
  const ms = /^\d{4}-\d{2}-\d{2}(?:T[\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$/.test(raw) ? Date.parse(raw) : Number.NaN;
  // The epoch to year 9999: what PostgreSQL's timestamptz and the cursors hold.
  if (!(ms >= 0 && ms <= 253_402_300_799_999)) throw errors.validation(`${name} must be an ISO 8601 date or date-time`);
  return new Date(ms);
}

/** The filters of a list/search query, validated. */
export function filtersOf(query: ListVideosQuery): CatalogFilters {
  const tags = query.tags === undefined ? undefined : normalizeTags(query.tags.split(","));
  if (tags && tags.length > 20) throw errors.validation("tags: at most 20");
  return {
    duration: query.duration,
    minDuration: query.minDuration,
    maxDuration: query.maxDuration,
    publishedAfter: parseDate("publishedAfter", query.publishedAfter),
    publishedBefore: parseDate("publishedBefore", query.publishedBefore),
    minHeight: query.minHeight,
    tags,
    ownerId: query.owner,
  };
}

/** `/api/videos`: list, search, get, patch, delete and the status event stream. */
export async function videoRoutes(app: FastifyInstance, opts: VideoRoutesOptions): Promise<void> {
  // Open event streams end when the server closes (clients reconnect to another instance)
  // instead of holding the shutdown until their clients go away.
  const streams = new Set<() => void>();
  app.addHook("preClose", async () => {
    for (const end of streams) end();
  });
  const { catalog, storage, config } = opts;
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const mediaBase = mediaBaseUrl(config);
  /** Public list and search pages as sent (body and ETag), for as long as the catalog caches the page. */
  const rendered = new WeakMap<Page, Rendered>();
  const renderedSuggestions = new WeakMap<readonly string[], Rendered>();
  // Private media are served by this server (signed), whatever the public media base is.
  const signed = { signer: opts.auth.mediaSigner, privateBase: `${config.publicUrl ?? ""}/media` };
  /** Videos as the API shows them, each naming its owner's channel (looked up in one query). */
  /** Places in the transcode queue, read only when a video asked about waits there. */
  const queueOf = async (videos: readonly Video[]) =>
    videos.some((v) => v.status === "QUEUED") ? catalog.queries.queuePositions(config.transcodeShares) : undefined;
  const mapAll = async (videos: readonly Video[]) => {
    const [channels, queue] = await Promise.all([
      opts.auth.channels.owners(videos.map((v) => v.ownerId)),
      queueOf(videos),
    ]);
    return videos.map((v) => toApiVideo(v, mediaBase, { signed, channels, queue }));
  };
  const map = async (v: Video) => (await mapAll([v]))[0] as ReturnType<typeof toApiVideo>;

  const { viewable, editable } = videoAccess(catalog, opts.auth);

  /** The poster at `time` (made and stored first), or the transcoder's again for null. */
  const choosePoster = async (video: Video, time: number | null): Promise<UpdateInput["poster"]> => {
    if (time === null) return { key: video.posterTime === null ? video.posterKey : keys.poster(video.id), time: null };
    if (!opts.posters) throw errors.notImplemented("This server makes no images");
    if (video.status !== "READY" || video.duration === null) {
      throw errors.videoNotReady("A poster can be chosen once the video is READY");
    }
    const rounded = Number((Math.round(time / TIME_STEP) * TIME_STEP).toFixed(1));
    if (rounded >= video.duration) {
      throw errors.validation(`posterTime must be under the video's duration (${video.duration} s)`);
    }
    try {
      return { key: await opts.posters.poster(video, rounded), time: rounded };
    } catch (err) {
      // The catalog names segments storage does not have (deleted, or never published).
      if (err instanceof ObjectNotFoundError || err instanceof ImageRequestError) throw errors.mediaNotFound();
      throw err;
    }
  };

  // ETag from the body (these routes only): a matching If-None-Match is a 304 without a body.
  await app.register(etag);
  // Writes and errors are never stored by any cache; reads set their own policy below.
  app.addHook("onRequest", async (_request, reply) => {
    reply.header("Cache-Control", "no-store");
  });

  r.get(
    "/api/videos",
    {
      schema: {
        summary: "List READY videos (newest first), or search them with q; filters and sorts apply to both",
        querystring: ListVideosQuery,
        response: { 200: VideoList, 400: ErrorBody, 401: ErrorBody },
      },
    },
    async (request, reply) => {
      const { q, limit = 20, cursor, sort, mine } = request.query;
      const owner = mine === "1" || mine === "true" ? (await opts.auth.requireUser(request)).userId : null;
      const filters = filtersOf(request.query);
      if (owner && (q || sort || Object.values(filters).some((v) => v !== undefined))) {
        // Never a silently unfiltered answer to a filtered question.
        throw errors.validation("mine lists your own videos newest first; it takes no q, filters or sort");
      }
      if (!q && sort === "relevance") throw errors.validation("sort=relevance needs a search query (q)");
      try {
        if (owner) {
          // The caller's own videos, private ones included: never stored by a shared cache.
          const page = await catalog.queries.listMine(owner, { limit, cursor });
          reply.header("Cache-Control", PERSONAL_NO_STORE);
          return { items: await mapAll(page.items), nextCursor: page.nextCursor };
        }
        const page = q
          ? await catalog.queries.search({ ...filters, q, limit, cursor, sort })
          : await catalog.queries.list({ ...filters, limit, cursor, sort: sort === "relevance" ? undefined : sort });
        cacheFor(request, reply);
        // A public page is the same for everyone: rendered once while the catalog keeps it.
        return await sendRendered(reply, rendered, page, async () => ({
          items: await mapAll(page.items),
          nextCursor: page.nextCursor,
        }));
      } catch (err) {
        if (err instanceof InvalidCursorError) throw errors.validation("Invalid cursor");
        throw err;
      }
    },
  );

  r.get(
    "/api/videos/suggestions",
    {
      schema: {
        summary: "Search-box typeahead: READY titles starting with q",
        querystring: SuggestionsQuery,
        response: { 200: Suggestions, 400: ErrorBody },
      },
    },
    async (request, reply) => {
      const { q, limit = 8 } = request.query;
      const suggestions = await catalog.queries.suggest(q, limit);
      cacheFor(request, reply);
      // The same titles (one array per cached answer and limit) are rendered once, as pages are.
      return sendRendered(reply, renderedSuggestions, suggestions, async () => ({ suggestions }));
    },
  );

  r.get(
    "/api/videos/:id",
    {
      schema: {
        summary: "One video, any status (a PRIVATE one only for its owner or an admin, or with its embed token)",
        params: VideoParams,
        querystring: VideoReadQuery,
        response: { 200: VideoSchema, 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (request, reply) => {
      const video = await viewable(request, request.params.id);
      // Only PUBLIC videos may sit in a shared cache: an UNLISTED one is for whoever has the
      // link, a PRIVATE one carries signed media URLs for its owner.
      if (video.visibility === "PUBLIC")
        cacheFor(request, reply, video.status === "READY" || video.status === "FAILED");
      else reply.header("Cache-Control", PERSONAL_NO_STORE);
      return map(video);
    },
  );

  r.get(
    "/api/videos/:id/related",
    {
      schema: {
        summary: "READY PUBLIC videos related to this one: shared tags first, then words of its title",
        params: VideoParams,
        querystring: RelatedVideosQuery,
        response: { 200: VideoList, 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (request, reply) => {
      const video = await viewable(request, request.params.id);
      const items = await catalog.queries.related(video, request.query.limit ?? 12);
      cacheFor(request, reply);
      return { items: await mapAll(items), nextCursor: null };
    },
  );

  r.post(
    "/api/videos/:id/views",
    {
      schema: {
        summary:
          "Count a view: once per playback session (the body's session id), at most 3 per client address and video an hour",
        params: VideoParams,
        querystring: VideoReadQuery,
        body: RecordViewBody,
        response: { 202: Type.Null(), 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (request, reply) => {
      const video = await viewable(request, request.params.id);
      // Accepted either way: a view not counted is not the client's error to handle.
      catalog.queries.recordView(video.id, request.body.session, request.ip);
      return reply.status(202).send(null);
    },
  );

  r.patch(
    "/api/videos/:id",
    {
      schema: {
        summary:
          "Change the title, description, tags, visibility, downloads switch or poster frame (its owner or an admin)",
        params: VideoParams,
        body: UpdateVideoBody,
        response: {
          200: VideoSchema,
          400: ErrorBody,
          401: ErrorBody,
          403: ErrorBody,
          404: ErrorBody,
          409: ErrorBody,
          501: ErrorBody,
        },
      },
    },
    async (request) => {
      const current = await editable(request, request.params.id);
      const { posterTime, ...details } = request.body;
      const poster = posterTime === undefined ? undefined : await choosePoster(current, posterTime);
      const video = await catalog.edits.update(request.params.id, { ...details, poster });
      if (!video) throw errors.videoNotFound(request.params.id);
      // A poster chosen before is no longer shown anywhere.
      if (current.posterTime !== null && current.posterKey && current.posterKey !== video.posterKey) {
        await storage.delete(current.posterKey).catch(() => undefined);
      }
      return map(video);
    },
  );

  r.delete(
    "/api/videos/:id",
    {
      schema: {
        summary: "Delete the video and every file it has (its owner or an admin)",
        params: VideoParams,
        response: { 204: Type.Null(), 401: ErrorBody, 403: ErrorBody, 404: ErrorBody },
      },
    },
    async (request, reply) => {
      await editable(request, request.params.id);
      const video = await catalog.edits.delete(request.params.id);
      if (!video) throw errors.videoNotFound(request.params.id);
      await storage.deletePrefix(keys.videoPrefix(video.id));
      // What an upload left (tus data and its metadata, on disk or in S3; an unfinished
      // multipart upload is aborted).
      await opts.uploads.discard(video.uploadId ?? video.id);
      return reply.status(204).send(null);
    },
  );

  r.get(
    "/api/videos/:id/events",
    {
      schema: {
        summary: "Server-Sent Events: `status` events (VideoStatusEvent) until READY or FAILED",
        params: VideoParams,
        querystring: VideoReadQuery,
        produces: ["text/event-stream"],
        response: { 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (request, reply) => {
      const video = await viewable(request, request.params.id);
      reply.hijack();
      const res = reply.raw;
      // CORS headers were set on the Fastify reply, which a hijacked response bypasses.
      copyReplyHeaders(reply);
      res.writeHead(200, {
        "Content-Type": "text/event-stream; charset=utf-8",
        "Cache-Control": "no-cache, no-transform",
        Connection: "keep-alive",
        "X-Accel-Buffering": "no",
      });
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        streams.delete(finish);
        unsubscribe();
        clearInterval(heartbeat);
        res.end();
      };
      /** The last event sent: a change elsewhere sends only when this video's place moved. */
      let last = "";
      let waiting = video.status === "QUEUED";
      const send = (v: Video, queue: ReadonlyMap<string, number> | undefined, own: boolean) => {
        if (done) return;
        waiting = v.status === "QUEUED";
        const data = JSON.stringify(statusEvent(v, queue));
        if (!own && data === last) return;
        last = data;
        res.write(`event: status\ndata: ${data}\n\n`);
        // Terminal states end the stream; clients stop reconnecting on a clean close.
        if (v.status === "READY" || v.status === "FAILED") finish();
      };
      // Changes made on any instance arrive here (the change stream); each is re-read through
      // the cache, which the same stream invalidated first. Reads run one at a time, so the
      // stream never goes back to an older state.
      let reading = Promise.resolve();
      const reread = (own: boolean) => {
        reading = reading
          .then(async () => {
            if (done) return;
            const current = await catalog.queries.get(video.id);
            if (current) send(current, await queueOf([current]), own);
            else finish();
          })
          .catch((err) => request.log.warn({ err, videoId: video.id }, "reading a changed video failed"));
      };
      const unsubscribe = catalog.changes.subscribe((change) => {
        // While it waits, another video starting or leaving the queue moves its place.
        if (change === null || change.id === video.id) reread(true);
        else if (waiting) reread(false);
      });
      const heartbeat = setInterval(() => res.write(": keep-alive\n\n"), HEARTBEAT_MS);
      request.raw.on("close", finish);
      streams.add(finish);
      // Re-read after subscribing so a change between the first read and here is not missed.
      reread(true);
    },
  );
}

/** A public answer serialized once, with its ETag. */
interface Rendered {
  body: string;
  etag: string;
}

/**
 * Sends the answer made from `source`, serialized by the route's own response serializer (its
 * schema, as Fastify would have) the first time and kept beside `source` while it lives.
 */
async function sendRendered<K extends object>(
  reply: FastifyReply,
  cache: WeakMap<K, Rendered>,
  source: K,
  make: () => Promise<unknown>,
): Promise<FastifyReply> {
  let out = cache.get(source);
  if (!out) {
    const serialize = reply.getSerializationFunction("200") ?? JSON.stringify;
    const body = serialize(await make());
    out = { body, etag: `"${createHash("sha1").update(body).digest("base64")}"` };
    cache.set(source, out);
  }
  // Already serialized: Fastify sends a string body as it is.
  return reply
    .header("ETag", out.etag)
    .type("application/json; charset=utf-8")
    .send(out.body as never);
}
