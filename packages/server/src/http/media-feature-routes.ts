import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { type Config, ObjectNotFoundError, type Storage } from "@reelkit/core";
import {
  AddCaptionQuery,
  CaptionParams,
  CaptionTrack,
  CaptionTrackList,
  ChapterList,
  DownloadQuery,
  ErrorBody,
  SetChaptersBody,
  VideoParams,
  VideoReadQuery,
} from "@reelkit/sdk/contract";
import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import type { AuthService } from "../auth/auth-service.js";
import type { Catalog } from "../catalog/catalog.js";
import type { Video } from "../generated/prisma/client.js";
import { CaptionError, CaptionService, MAX_CAPTION_BYTES } from "../media/caption-service.js";
import type { CaptionFormat } from "../media/captions.js";
import { chapterProblem, storedChapters } from "../media/chapters.js";
import type { DownloadService } from "../media/downloads.js";
import { parseRange } from "../media/media-routes.js";
import { errors } from "./errors.js";
import { videoAccess } from "./video-access.js";
import { mediaBaseUrl, toApiVideo } from "./video-mapper.js";

export interface MediaFeatureRoutesOptions {
  config: Pick<Config, "publicUrl" | "storage">;
  /** MP4 downloads; the route answers 404 without. */
  downloads?: DownloadService;
  storage: Storage;
  catalog: Pick<Catalog, "queries" | "edits">;
  auth: AuthService;
}

const MP4_FILE = { type: "string", format: "binary" } as const;

const FORMATS: Record<string, CaptionFormat> = {
  "text/vtt": "vtt",
  "application/x-subrip": "srt",
  "application/srt": "srt",
  "text/srt": "srt",
};

/** `/api/videos/:id/captions` and `/api/videos/:id/chapters`: an owner's text tracks and chapters. */
export async function mediaFeatureRoutes(app: FastifyInstance, opts: MediaFeatureRoutesOptions): Promise<void> {
  const { catalog, config } = opts;
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const captions = new CaptionService(opts.storage, {
    get: (id) => catalog.queries.get(id),
    updateList: (id, column, change) => catalog.edits.updateList(id, column, change),
  });
  const signed = { signer: opts.auth.mediaSigner, privateBase: `${config.publicUrl ?? ""}/media` };
  const mediaBase = mediaBaseUrl(config);
  const map = (v: Video) => toApiVideo(v, mediaBase, { signed });

  // Caption files arrive as they are: the body is the file (a few MB at most).
  for (const type of Object.keys(FORMATS)) {
    app.addContentTypeParser(type, { parseAs: "buffer", bodyLimit: MAX_CAPTION_BYTES }, (_req, body, done) =>
      done(null, body),
    );
  }

  const { viewable, editable } = videoAccess(catalog, opts.auth);
  const fromCaptionError = (err: unknown, id: string): unknown => {
    if (!(err instanceof CaptionError)) return err;
    if (err.reason === "invalid") return errors.captionsInvalid(err.message);
    if (err.reason === "not-ready") return errors.videoNotReady(err.message);
    return errors.videoNotFound(id);
  };

  r.get(
    "/api/videos/:id/captions",
    {
      schema: {
        summary: "The video's text tracks (captions and subtitles)",
        params: VideoParams,
        querystring: VideoReadQuery,
        response: { 200: CaptionTrackList, 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (request, reply) => {
      const video = await viewable(request, request.params.id);
      reply.header("Cache-Control", "private, no-cache");
      return { items: map(video).captions };
    },
  );

  r.post(
    "/api/videos/:id/captions",
    {
      schema: {
        summary:
          "Add or replace the text track of one language: the body is the file (text/vtt, or application/x-subrip converted to WebVTT); no re-transcode",
        params: VideoParams,
        querystring: AddCaptionQuery,
        consumes: Object.keys(FORMATS),
        response: {
          201: CaptionTrack,
          400: ErrorBody,
          401: ErrorBody,
          403: ErrorBody,
          404: ErrorBody,
          409: ErrorBody,
          413: ErrorBody,
          415: ErrorBody,
        },
      },
    },
    async (request, reply) => {
      const video = await editable(request, request.params.id);
      const type = (request.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
      const format = FORMATS[type];
      if (!format || !Buffer.isBuffer(request.body)) {
        throw errors.unsupportedMediaType("Send the file as text/vtt or application/x-subrip");
      }
      const { language, label, kind } = request.query;
      try {
        const { video: updated, track } = await captions.add(video, {
          language,
          label,
          kind,
          isDefault: request.query.default,
          format,
          body: request.body,
        });
        const out = map(updated).captions.find((t) => t.language === track.language);
        if (!out) throw errors.videoNotFound(video.id);
        return reply.status(201).send(out);
      } catch (err) {
        // The catalog names a media playlist storage does not have (deleted, or never published).
        if (err instanceof ObjectNotFoundError) throw errors.mediaNotFound();
        throw fromCaptionError(err, video.id);
      }
    },
  );

  r.delete(
    "/api/videos/:id/captions/:language",
    {
      schema: {
        summary: "Delete the text track of one language",
        params: CaptionParams,
        response: { 204: Type.Null(), 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody },
      },
    },
    async (request, reply) => {
      const video = await editable(request, request.params.id);
      if (!(await captions.remove(video, request.params.language))) {
        throw errors.notFound(`The video has no track in ${request.params.language}`);
      }
      return reply.status(204).send(null);
    },
  );

  r.get(
    "/api/videos/:id/download",
    {
      schema: {
        summary:
          "The video as an MP4 file (remuxed from its HLS rendition, no re-encode; Range supported): its owner always, others when the owner turned `downloads` on",
        params: VideoParams,
        querystring: DownloadQuery,
        response: {
          200: { description: "The MP4 file", content: { "video/mp4": { schema: MP4_FILE } } },
          206: { description: "A range of the MP4 file", content: { "video/mp4": { schema: MP4_FILE } } },
          400: ErrorBody,
          403: ErrorBody,
          404: ErrorBody,
          409: ErrorBody,
          416: ErrorBody,
        },
      },
    },
    async (request, reply) => {
      const video = await viewable(request, request.params.id);
      const principal = await opts.auth.principal(request);
      const isOwner =
        principal?.kind === "user" &&
        (principal.isAdmin || (video.ownerId !== null && principal.userId === video.ownerId));
      if (!isOwner && !video.downloads) throw errors.forbidden("The owner has not allowed downloads of this video");
      if (video.status !== "READY" || !opts.downloads)
        throw errors.videoNotReady("Downloads are made once the video is READY");
      const rung = opts.downloads.rendition(video, request.query.quality);
      if (!rung) throw errors.notFound(`The video has no rendition ${request.query.quality}`);
      let key: string;
      try {
        key = await opts.downloads.mp4(video, rung);
      } catch (err) {
        // The catalog names files storage no longer has (deleted or never published).
        if (err instanceof ObjectNotFoundError) throw errors.mediaNotFound();
        throw err;
      }
      const object = await opts.storage.open(key);
      if (!object) throw errors.mediaNotFound();
      const range = parseRange(request.headers.range, object.size);
      if (range === "invalid") {
        await object.close();
        reply.header("Content-Range", `bytes */${object.size}`);
        throw errors.rangeNotSatisfiable();
      }
      // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is removed
      const filename = `${(video.title || "video").replace(/[\\/:*?"<>|\u0000-\u001f]+/g, " ").trim() || "video"}.mp4`;
      const ascii = filename.replace(/[^\x20-\x7e]/g, "_");
      reply.header("Content-Type", "video/mp4");
      reply.header(
        "Content-Disposition",
        `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(filename)}`,
      );
      reply.header("Accept-Ranges", "bytes");
      reply.header("Cache-Control", "private, no-cache");
      if (range) {
        reply.status(206 as never);
        reply.header("Content-Range", `bytes ${range.start}-${range.end}/${object.size}`);
        reply.header("Content-Length", range.end - range.start + 1);
      } else reply.header("Content-Length", object.size);
      // A stream: sent as it is, past the route's (JSON) response schemas.
      return reply.send((await object.read(range ?? undefined)) as never);
    },
  );

  r.get(
    "/api/videos/:id/chapters",
    {
      schema: {
        summary: "The video's chapters",
        params: VideoParams,
        querystring: VideoReadQuery,
        response: { 200: ChapterList, 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (request, reply) => {
      const video = await viewable(request, request.params.id);
      reply.header("Cache-Control", "private, no-cache");
      return { chapters: storedChapters(video) };
    },
  );

  r.put(
    "/api/videos/:id/chapters",
    {
      schema: {
        summary: "Replace the chapters (sorted by start time, inside the duration; an empty list removes them)",
        params: VideoParams,
        body: SetChaptersBody,
        response: { 200: ChapterList, 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody },
      },
    },
    async (request) => {
      const video = await editable(request, request.params.id);
      if (video.duration === null) throw errors.videoNotReady("Chapters can be set once the video's duration is known");
      const chapters = request.body.chapters.map((c) => ({ title: c.title.trim(), startTime: c.startTime }));
      const problem = chapterProblem(chapters, video.duration);
      if (problem) throw errors.chaptersInvalid(problem);
      const updated = await catalog.edits.updateList(video.id, "chapters", () => chapters);
      if (!updated) throw errors.videoNotFound(video.id);
      return { chapters: storedChapters(updated) };
    },
  );
}
