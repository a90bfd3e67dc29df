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
import type { FastifyInstance, FastifyRequest } from "fastify";
import { AuthService } from "../auth/auth-service.js";
import { type CatalogService, InvalidCursorError } from "../catalog/catalog-service.js";
import type { Video } from "../generated/prisma/client.js";
import { errors } from "./errors.js";
import { isPlayable, mediaBaseUrl, toApiVideo } from "./video-mapper.js";

export interface VideoRoutesOptions {
  config: Pick<Config, "publicUrl" | "storage">;
  storage: Storage;
  catalog: CatalogService;
  auth: AuthService;
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
  // Private media are served by this server (signed), whatever the public media base is.
  const signed = { signer: opts.auth.mediaSigner, privateBase: `${config.publicUrl ?? ""}/media` };
  const map = (v: Video) => toApiVideo(v, mediaBase, signed);

  /** The video if the caller may see it: PRIVATE ones only for their owner or an admin (else 404). */
  const viewable = async (request: FastifyRequest, id: string): Promise<Video> => {
    const video = await catalog.get(id);
    if (!video || !AuthService.canView(await opts.auth.principal(request), video)) throw errors.videoNotFound(id);
    return video;
  };

  /** The video, if the signed-in caller may change it: its owner or an admin (else 401/403/404). */
  const editable = async (request: FastifyRequest, id: string): Promise<Video> => {
    const user = await opts.auth.requireUser(request);
    const video = await catalog.get(id);
    if (!video) throw errors.videoNotFound(id);
    if (!user.isAdmin && video.ownerId !== user.userId) {
      throw errors.forbidden("Only the video's owner or an admin can change it");
    }
    return video;
  };

  r.get(
    "/api/videos",
    {
      schema: {
        summary: "List READY videos (newest first), or search them with q",
        querystring: ListVideosQuery,
        response: { 200: VideoList, 400: ErrorBody, 401: ErrorBody },
      },
    },
    async (request) => {
      const { q, limit = 20, cursor, sort, mine } = request.query;
      const owner = mine === "1" || mine === "true" ? (await opts.auth.requireUser(request)).userId : null;
      try {
        const page = owner
          ? await catalog.listMine(owner, { limit, cursor })
          : q
            ? await catalog.search({ q, limit, cursor })
            : await catalog.list({ limit, cursor, sort });
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
      schema: {
        summary: "One video, any status (a PRIVATE one only for its owner or an admin)",
        params: VideoParams,
        response: { 200: VideoSchema, 404: ErrorBody },
      },
    },
    async (request) => map(await viewable(request, request.params.id)),
  );

  r.patch(
    "/api/videos/:id",
    {
      schema: {
        summary: "Change the title, description or visibility (its owner or an admin)",
        params: VideoParams,
        body: UpdateVideoBody,
        response: { 200: VideoSchema, 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody },
      },
    },
    async (request) => {
      await editable(request, request.params.id);
      const video = await catalog.update(request.params.id, request.body);
      if (!video) throw errors.videoNotFound(request.params.id);
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
      const video = await viewable(request, request.params.id);
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
