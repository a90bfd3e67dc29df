import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { type Config, keys, type Storage } from "@reelkit/core";
import {
  ErrorBody,
  ListVideosQuery,
  Suggestions,
  SuggestionsQuery,
  UpdateVideoBody,
  VideoList,
  VideoParams,
  Video as VideoSchema,
  type VideoStatusEvent,
} from "@reelkit/sdk/contract";
import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import type { CatalogFilters } from "../catalog/catalog-query.js";
import { type CatalogService, InvalidCursorError, normalizeTags } from "../catalog/catalog-service.js";
import type { Video } from "../generated/prisma/client.js";
import { errors } from "./errors.js";
import { toApiVideo } from "./video-mapper.js";

export interface VideoRoutesOptions {
  config: Pick<Config, "publicUrl">;
  storage: Storage;
  catalog: CatalogService;
}

const HEARTBEAT_MS = 15_000;

function statusEvent(v: Video): VideoStatusEvent {
  return { videoId: v.id, status: v.status, progress: v.progress, failureReason: v.failureReason };
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
  const { catalog, storage, config } = opts;
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const map = (v: Video) => toApiVideo(v, config.publicUrl);

  r.get(
    "/api/videos",
    {
      schema: {
        summary: "List READY videos (newest first), or search them with q; filters and sorts apply to both",
        querystring: ListVideosQuery,
        response: { 200: VideoList, 400: ErrorBody },
      },
    },
    async (request) => {
      const { q, limit = 20, cursor, sort } = request.query;
      const filters = filtersOf(request.query);
      if (!q && sort === "relevance") throw errors.validation("sort=relevance needs a search query (q)");
      try {
        const page = q
          ? await catalog.search({ ...filters, q, limit, cursor, sort })
          : await catalog.list({ ...filters, limit, cursor, sort: sort === "relevance" ? undefined : sort });
        return { items: page.items.map(map), nextCursor: page.nextCursor };
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
    async (request) => {
      const { q, limit = 8 } = request.query;
      return { suggestions: await catalog.suggest(q, limit) };
    },
  );

  r.get(
    "/api/videos/:id",
    {
      schema: { summary: "One video, any status", params: VideoParams, response: { 200: VideoSchema, 404: ErrorBody } },
    },
    async (request) => {
      const video = await catalog.get(request.params.id);
      if (!video) throw errors.videoNotFound(request.params.id);
      return map(video);
    },
  );

  r.patch(
    "/api/videos/:id",
    {
      schema: {
        summary: "Change the title, description or tags",
        params: VideoParams,
        body: UpdateVideoBody,
        response: { 200: VideoSchema, 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (request) => {
      const video = await catalog.update(request.params.id, request.body);
      if (!video) throw errors.videoNotFound(request.params.id);
      return map(video);
    },
  );

  r.delete(
    "/api/videos/:id",
    {
      schema: {
        summary: "Delete the video and every file it has",
        params: VideoParams,
        response: { 204: Type.Null(), 404: ErrorBody },
      },
    },
    async (request, reply) => {
      const video = await catalog.delete(request.params.id);
      if (!video) throw errors.videoNotFound(request.params.id);
      await storage.deletePrefix(keys.videoPrefix(video.id));
      return reply.status(204).send(null);
    },
  );

  r.get(
    "/api/videos/:id/events",
    {
      schema: {
        summary: "Server-Sent Events: `status` events (VideoStatusEvent) until READY or FAILED",
        params: VideoParams,
        produces: ["text/event-stream"],
        response: { 404: ErrorBody },
      },
    },
    async (request, reply) => {
      const video = await catalog.get(request.params.id);
      if (!video) throw errors.videoNotFound(request.params.id);
      reply.hijack();
      const res = reply.raw;
      // CORS headers were set on the Fastify reply, which a hijacked response bypasses.
      for (const [name, value] of Object.entries(reply.getHeaders())) {
        if (value !== undefined) res.setHeader(name, value as string);
      }
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
        unsubscribe();
        clearInterval(heartbeat);
        res.end();
      };
      const send = (v: Video) => {
        if (done) return;
        res.write(`event: status\ndata: ${JSON.stringify(statusEvent(v))}\n\n`);
        // Terminal states end the stream; clients stop reconnecting on a clean close.
        if (v.status === "READY" || v.status === "FAILED") finish();
      };
      const unsubscribe = catalog.onChange((v) => {
        if (v.id === video.id) send(v);
      });
      const heartbeat = setInterval(() => res.write(": keep-alive\n\n"), HEARTBEAT_MS);
      request.raw.on("close", finish);
      // Re-read after subscribing so a change between the first read and here is not missed.
      send((await catalog.get(video.id)) ?? video);
    },
  );
}
