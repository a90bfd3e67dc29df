import { createHash } from "node:crypto";
import { CACHE_IMMUTABLE, CACHE_PLAYLIST, contentTypeFor, ObjectNotFoundError, type Storage } from "@reelkit/core";
import {
  AnimatedQuery,
  ErrorBody,
  MediaImageParams,
  SignedMediaImageParams,
  ThumbnailQuery,
} from "@reelkit/sdk/contract";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { LRUCache } from "lru-cache";
import type { Video } from "../generated/prisma/client.js";
import { errors } from "../http/errors.js";
import { copyReplyHeaders } from "../http/header-bridge.js";
import { MEDIA_SECURITY_POLICY } from "../http/security-headers.js";
import { addSubtitlesToMaster, type SubtitleRendition } from "./captions.js";
import { type MediaSigner, SIGNED_PREFIX } from "./media-signing.js";
import {
  type ImageFit,
  ImageRequestError,
  type ImageService,
  normaliseAnimatedRequest,
  normaliseImageRequest,
} from "./thumbnails.js";

export { contentTypeFor };

/** Only published renditions and images: sources and tus uploads are never served. */
const SERVABLE =
  /^videos\/[A-Za-z0-9_-]+\/(?:hls\/(?:[A-Za-z0-9_.-]+\/)*[A-Za-z0-9_.-]+|poster\.jpg|poster-t\d+\.\d\.jpg|storyboard\.jpg|storyboard\.vtt|chapters\.vtt)$/;
/** Users' avatars: public, whoever the user (no video, no visibility). */
const AVATAR = /^avatars\/[A-Za-z0-9_-]+\/[a-f0-9]+\.jpg$/;

/** Checks a decoded media key; throws INVALID_MEDIA_PATH on traversal or odd characters. */
export function mediaKey(raw: string): string {
  const segments = raw.split("/");
  if (
    raw.includes("\\") ||
    raw.includes("\0") ||
    raw.startsWith("/") ||
    segments.some((s) => s === "" || s === "." || s === "..")
  ) {
    throw errors.invalidMediaPath();
  }
  return raw;
}

/** Parses a single `bytes=` range; null when absent/unsupported, "invalid" when unsatisfiable. */
export function parseRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | null | "invalid" {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m) return null; // multi-range and other units: serve the whole file (allowed by RFC 9110)
  const [, a, b] = m;
  if (a === "" && b === "") return "invalid";
  let start: number;
  let end: number;
  if (a === "") {
    const suffix = Number(b);
    if (suffix === 0) return "invalid";
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(a);
    end = b === "" ? size - 1 : Math.min(Number(b), size - 1);
  }
  if (start >= size || start > end) return "invalid";
  return { start, end };
}

export type MediaVisibility = "PUBLIC" | "UNLISTED" | "PRIVATE";

/** Who may fetch a video's media: PRIVATE videos only through signed URLs. */
export interface MediaAccess {
  signer: MediaSigner;
  /** The video's visibility; null when there is no such video. */
  visibility(videoId: string): Promise<MediaVisibility | null>;
  /** The video's text tracks, added to its master playlist as it is served (cached reads). */
  subtitles?(videoId: string): Promise<SubtitleRendition[]>;
  /** The video's chapters as a WebVTT track, null when it has none. */
  chaptersVtt?(videoId: string): Promise<string | null>;
}

const MASTER = /^videos\/[A-Za-z0-9_-]+\/hls\/master\.m3u8$/;

export interface MediaRoutesOptions {
  storage: Storage;
  /** Images at any time (`videos/<id>/thumbnail.{jpg,webp}?time=…`, `animated.webp?start=…`); 404 without. */
  images?: { service: ImageService; video(videoId: string): Promise<Video | null> };
  /** Without it every servable file is public (no catalog to ask). */
  access?: MediaAccess;
}

/** Visibility lookups are cached this long: a segment request must not cost a query each. */
const VISIBILITY_TTL_MS = 2_000;

function cachedVisibility(access: MediaAccess): (videoId: string) => Promise<MediaVisibility | null> {
  const cache = new Map<string, { at: number; value: Promise<MediaVisibility | null> }>();
  return (videoId) => {
    const now = Date.now();
    const hit = cache.get(videoId);
    if (hit && now - hit.at < VISIBILITY_TTL_MS) return hit.value;
    if (cache.size > 10_000) cache.clear();
    const value = access.visibility(videoId);
    cache.set(videoId, { at: now, value });
    value.catch(() => cache.delete(videoId));
    return value;
  };
}

/** A query's number parameter (already coerced on the documented routes); 400 when not a number. */
function numberParam(query: unknown, name: string, integer: boolean): number | undefined {
  const raw = ((query ?? {}) as Record<string, unknown>)[name];
  if (raw === undefined || raw === "") return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n))) throw errors.validation(`${name} must be a number`);
  return n;
}

/** The query of an animated preview's URL, checked (400 VALIDATION_FAILED naming the parameter). */
function animatedRequest(query: unknown, video: Video) {
  try {
    return normaliseAnimatedRequest(
      {
        start: numberParam(query, "start", false),
        end: numberParam(query, "end", false),
        fps: numberParam(query, "fps", true),
        width: numberParam(query, "width", true),
        height: numberParam(query, "height", true),
      },
      video.duration ?? 0,
    );
  } catch (err) {
    if (err instanceof ImageRequestError) throw errors.validation(err.message);
    throw err;
  }
}

/** The query of a thumbnail URL, checked (400 VALIDATION_FAILED naming the parameter). */
function imageRequest(query: unknown, format: "jpg" | "webp", video: Video) {
  const q = (query ?? {}) as Record<string, string | undefined>;
  const num = (name: string, integer: boolean) => numberParam(query, name, integer);
  const fit = q.fit ?? "preserve";
  if (!["preserve", "crop", "pad"].includes(fit)) throw errors.validation("fit must be preserve, crop or pad");
  const duration = video.duration ?? 0;
  try {
    return normaliseImageRequest(
      {
        time: num("time", false) ?? duration / 2,
        width: num("width", true),
        height: num("height", true),
        fit: fit as ImageFit,
        format,
      },
      duration,
    );
  } catch (err) {
    if (err instanceof ImageRequestError) throw errors.validation(err.message);
    throw err;
  }
}

/**
 * `GET|HEAD /media/*`: HLS playlists, fMP4 segments and images from storage (local or S3), with
 * ranges. In S3 mode this is the route for a private bucket; a public one is read through
 * `S3_PUBLIC_BASE_URL` instead.
 */
export async function mediaRoutes(app: FastifyInstance, opts: MediaRoutesOptions): Promise<void> {
  const { storage, access } = opts;
  const visibility = access ? cachedVisibility(access) : null;
  const subtitles = access?.subtitles?.bind(access);
  /** Composed masters by video, master version and tracks: a player reloads it often. */
  const composed = new LRUCache<string, { text: string; etag: string }>({ max: 1000 });
  /** Serves `/media/<path>` (`path` decoded): a file, an image made on request or a composed playlist. */
  const serve = async (request: FastifyRequest, reply: FastifyReply, path: string) => {
    const rawPath = request.url.split("?")[0] ?? "";
    // Reject encoded dots and slashes before decoding can turn them into traversal.
    if (/%2e|%2f|%5c|%00/i.test(rawPath)) throw errors.invalidMediaPath();
    let key = mediaKey(path);
    // `s/<token>/videos/<id>/…`: a signed URL of one video.
    let token: string | null = null;
    if (key.startsWith(`${SIGNED_PREFIX}/`)) {
      const rest = key.slice(SIGNED_PREFIX.length + 1);
      const slash = rest.indexOf("/");
      if (slash < 0) throw errors.mediaNotFound();
      token = rest.slice(0, slash);
      key = rest.slice(slash + 1);
    }
    const avatar = token === null && AVATAR.test(key);
    const image = /^videos\/([A-Za-z0-9_-]+)\/(thumbnail\.jpg|thumbnail\.webp|animated\.webp)$/.exec(key);
    if (!avatar && !image && !SERVABLE.test(key)) throw errors.mediaNotFound();
    const videoId = key.split("/")[1] as string;
    if (avatar) {
      // no access check: avatars are as public as the channel pages showing them
    } else if (token !== null) {
      if (!access) throw errors.mediaNotFound();
      const check = access.signer.verify(videoId, token);
      if (check === "expired") throw errors.mediaUrlExpired();
      if (check === "invalid") throw errors.mediaUrlInvalid();
    } else if (visibility && (await visibility(videoId)) === "PRIVATE") {
      // A private video's files exist only under its signed URLs.
      throw errors.mediaNotFound();
    }
    if (image) {
      const video = opts.images ? await opts.images.video(videoId) : null;
      if (!opts.images || !video || video.status !== "READY" || video.duration === null) throw errors.mediaNotFound();
      const { service } = opts.images;
      const file = image[2] as string;
      try {
        key =
          file === "animated.webp"
            ? await service.animated(video, animatedRequest(request.query, video))
            : await service.image(video, imageRequest(request.query, file.endsWith(".webp") ? "webp" : "jpg", video));
      } catch (err) {
        // The catalog names segments storage does not have (deleted, or never published).
        if (err instanceof ObjectNotFoundError || err instanceof ImageRequestError) throw errors.mediaNotFound();
        throw err;
      }
    }
    if (key.endsWith("/chapters.vtt")) {
      // Made from the catalog's chapters (the URL the API hands out carries their version).
      const vtt = access?.chaptersVtt ? await access.chaptersVtt(videoId) : null;
      if (vtt === null) throw errors.mediaNotFound();
      reply.header("Content-Type", contentTypeFor(key));
      reply.header("X-Content-Type-Options", "nosniff");
      reply.header("Content-Security-Policy", MEDIA_SECURITY_POLICY);
      reply.header("Cache-Control", token === null ? CACHE_PLAYLIST : CACHE_PLAYLIST.replace("public", "private"));
      return reply.send(request.method === "HEAD" ? undefined : vtt);
    }
    const object = await storage.open(key);
    if (!object) throw errors.mediaNotFound();
    const tracks = subtitles && MASTER.test(key) ? await subtitles(videoId) : [];
    if (tracks.length > 0) {
      // The transcoder's master plus the SUBTITLES group of the catalog's tracks.
      const id = `${key}\n${object.etag ?? object.modifiedAt.getTime()}\n${JSON.stringify(tracks)}`;
      let out = composed.get(id);
      if (!out) {
        const chunks: Buffer[] = [];
        for await (const c of await object.read()) chunks.push(Buffer.from(c));
        const text = addSubtitlesToMaster(Buffer.concat(chunks).toString("utf8"), tracks);
        out = { text, etag: createHash("sha1").update(text).digest("base64url") };
        composed.set(id, out);
      } else await object.close();
      reply.header("Content-Type", contentTypeFor(key));
      reply.header("X-Content-Type-Options", "nosniff");
      reply.header("Content-Security-Policy", MEDIA_SECURITY_POLICY);
      reply.header("Cache-Control", token === null ? CACHE_PLAYLIST : CACHE_PLAYLIST.replace("public", "private"));
      reply.header("ETag", `"${out.etag}"`);
      reply.header("Content-Length", Buffer.byteLength(out.text));
      if (request.method === "HEAD") return reply.send();
      return reply.send(out.text);
    }
    let reading = false;
    try {
      const size = object.size;
      reply.header("Content-Type", contentTypeFor(key));
      reply.header("X-Content-Type-Options", "nosniff");
      reply.header("Content-Security-Policy", MEDIA_SECURITY_POLICY);
      // Signed (private) files: only the browser that holds the URL may keep them, never a shared cache.
      const cache = key.endsWith(".m3u8") ? CACHE_PLAYLIST : CACHE_IMMUTABLE;
      reply.header("Cache-Control", token === null ? cache : cache.replace("public", "private"));
      reply.header("Accept-Ranges", "bytes");
      reply.header("Last-Modified", object.modifiedAt.toUTCString());
      if (object.etag) reply.header("ETag", `"${object.etag}"`);

      const range = parseRange(request.headers.range, size);
      if (range === "invalid") {
        reply.header("Content-Range", `bytes */${size}`);
        throw errors.rangeNotSatisfiable();
      }
      if (range) {
        reply.status(206);
        reply.header("Content-Range", `bytes ${range.start}-${range.end}/${size}`);
        reply.header("Content-Length", range.end - range.start + 1);
      } else {
        reply.header("Content-Length", size);
      }
      if (request.method === "HEAD") return reply.send();
      if (object.writeTo) {
        // Local files: written straight into the response with reused buffers (see
        // writeFileRange). Hijacked, so the headers set so far (this route's, CORS, helmet's)
        // are written here; onResponse hooks (metrics) still run when the response finishes.
        reading = true;
        reply.hijack();
        const res = reply.raw;
        copyReplyHeaders(reply);
        res.writeHead(reply.statusCode);
        try {
          await object.writeTo(res, range ?? undefined);
          res.end();
        } catch (err) {
          // The headers are out: the only way left to say "failed" is to cut the connection.
          request.log.error({ err, key }, "reading a media file failed");
          res.destroy();
        }
        return;
      }
      const body = await object.read(range ?? undefined);
      reading = true;
      return reply.send(body);
    } catch (err) {
      // Deleted between the metadata and the read (S3 reads in two requests).
      if (err instanceof ObjectNotFoundError) throw errors.mediaNotFound();
      throw err;
    } finally {
      // The stream releases the file when it ends or is destroyed; otherwise release it here.
      if (!reading) await object.close();
    }
  };

  app.route({
    method: ["GET", "HEAD"],
    url: "/media/*",
    // Files, not JSON: the playback URLs the API hands out point here.
    schema: { hide: true },
    // A player fetches a segment every couple of seconds: two log lines per file would cost more
    // than serving it. Failures are still logged (warn and above).
    logLevel: "warn",
    handler: (request, reply) => serve(request, reply, (request.params as { "*": string })["*"]),
  });

  // The images made on request have their parameters, so they are described in the OpenAPI
  // document (the same handler as every media file).
  const images = [
    { file: "thumbnail.jpg", type: "image/jpeg", query: ThumbnailQuery, what: "A JPEG frame at any time" },
    { file: "thumbnail.webp", type: "image/webp", query: ThumbnailQuery, what: "A WebP frame at any time" },
    { file: "animated.webp", type: "image/webp", query: AnimatedQuery, what: "A looping animated WebP preview" },
  ] as const;
  for (const { file, type, query, what } of images) {
    const response = {
      200: { description: what, content: { [type]: { schema: { type: "string", format: "binary" } } } },
      400: ErrorBody,
      403: ErrorBody,
      404: ErrorBody,
    };
    const from = "of a READY video, from its best rendition's segments; made once per parameter set and stored";
    app.get(
      `/media/videos/:id/${file}`,
      {
        schema: {
          summary: `${what} ${from} (PUBLIC and UNLISTED videos)`,
          params: MediaImageParams,
          querystring: query,
          response,
        },
        logLevel: "warn",
      },
      (request, reply) => serve(request, reply, `videos/${(request.params as { id: string }).id}/${file}`),
    );
    app.get(
      `/media/${SIGNED_PREFIX}/:token/videos/:id/${file}`,
      {
        schema: {
          summary: `${what} ${from} (a PRIVATE video, under the signed prefix its JSON names)`,
          params: SignedMediaImageParams,
          querystring: query,
          response,
        },
        logLevel: "warn",
      },
      (request, reply) => {
        const { token, id } = request.params as { token: string; id: string };
        return serve(request, reply, `${SIGNED_PREFIX}/${token}/videos/${id}/${file}`);
      },
    );
  }
}
