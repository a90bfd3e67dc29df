import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { type Config, keys, type Storage } from "@reelkit/core";
import {
  ErrorBody,
  ListVideosQuery,
  UpdateVideoBody,
  VideoList,
  VideoParams,
  Video as VideoSchema,
  type VideoStatusEvent,
} from "@reelkit/sdk/contract";
import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { type CatalogService, InvalidCursorError } from "../catalog/catalog-service.js";
import type { Video } from "../generated/prisma/client.js";
import { errors } from "./errors.js";
import { isPlayable, mediaBaseUrl, toApiVideo } from "./video-mapper.js";

export interface VideoRoutesOptions {
  config: Pick<Config, "publicUrl" | "storage">;
  storage: Storage;
  catalog: CatalogService;
}

const HEARTBEAT_MS = 15_000;

function statusEvent(v: Video): VideoStatusEvent {
  return {
    videoId: v.id,
    status: v.status,
    progress: v.progress,
    failureReason: v.failureReason,
    playable: isPlayable(v),
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
  const map = (v: Video) => toApiVideo(v, mediaBase);

  r.get(
    "/api/videos",
    {
      schema: {
        summary: "List READY videos (newest first), or search them with q",
        querystring: ListVideosQuery,
        response: { 200: VideoList, 400: ErrorBody },
      },
    },
    async (request) => {
      const { q, limit = 20, cursor, sort } = request.query;
      try {
        const page = q ? await catalog.search({ q, limit, cursor }) : await catalog.list({ limit, cursor, sort });
        return { items: page.items.map(map), nextCursor: page.nextCursor };
      } catch (err) {
        if (err instanceof InvalidCursorError) throw errors.validation("Invalid cursor");
        throw err;
      }
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
        summary: "Change the title or description",
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
      // What an unfinished upload left (tus data and its metadata, on disk or in S3).
      const upload = keys.upload(video.uploadId ?? video.id);
      await Promise.all(["", ".json", ".info", ".part"].map((ext) => storage.delete(`${upload}${ext}`)));
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
        streams.delete(finish);
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
      streams.add(finish);
      // Re-read after subscribing so a change between the first read and here is not missed.
      send((await catalog.get(video.id)) ?? video);
    },
  );
}
