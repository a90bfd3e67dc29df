import { createHash } from "node:crypto";
import {
  CACHE_IMMUTABLE,
  CACHE_PLAYLIST,
  contentTypeFor,
  ObjectNotFoundError,
  type OpenedObject,
  type Storage,
} from "@reelkit/core";
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
import { atMostEntries } from "../lru-bounds.js";
import { addSubtitlesToMaster, type SubtitleRendition } from "./captions.js";
import {
  type CachedFile,
  isSmallFileKey,
  MediaCache,
  type MediaVideoState,
  type MediaVisibility,
} from "./media-cache.js";
import { type MediaSigner, SIGNED_PREFIX } from "./media-signing.js";
import {
  type ImageFit,
  ImageRequestError,
  type ImageService,
  normaliseAnimatedRequest,
  normaliseImageRequest,
} from "./thumbnails.js";

export type { MediaVideoState, MediaVisibility };
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

type RequestHeaders = Record<string, string | string[] | undefined>;

const headerValue = (h: string | string[] | undefined) => (Array.isArray(h) ? h.join(",") : h);

/** HTTP dates have whole seconds: a file's time as its Last-Modified header says it. */
const httpTime = (d: Date) => Math.floor(d.getTime() / 1000) * 1000;

/**
 * Whether a GET or HEAD is answered 304 (RFC 9110 13.1.2, 13.1.3): `If-None-Match` when present
 * (weak comparison), else `If-Modified-Since`.
 */
export function notModified(headers: RequestHeaders, etag: string | undefined, modifiedAt: Date): boolean {
  const inm = headerValue(headers["if-none-match"]);
  if (inm !== undefined) {
    if (inm.trim() === "*") return true;
    if (!etag) return false;
    return inm.split(",").some((tag) => tag.trim().replace(/^W\//, "") === `"${etag}"`);
  }
  const ims = headerValue(headers["if-modified-since"]);
  if (!ims) return false;
  const since = Date.parse(ims);
  return !Number.isNaN(since) && httpTime(modifiedAt) <= since;
}

/** `If-Range` (RFC 9110 13.1.5): the range applies only while the file is the one the client has. */
export function rangeApplies(headers: RequestHeaders, etag: string | undefined, modifiedAt: Date): boolean {
  const ifRange = headerValue(headers["if-range"])?.trim();
  if (!ifRange) return true;
  if (ifRange.startsWith('"') || ifRange.startsWith("W/")) return etag !== undefined && ifRange === `"${etag}"`;
  const at = Date.parse(ifRange);
  return !Number.isNaN(at) && httpTime(modifiedAt) === at;
}

/** Who may fetch a video's media: PRIVATE videos only through signed URLs. */
export interface MediaAccess {
  signer: MediaSigner;
  /** The video's visibility and whether it is READY; null when there is no such video. */
  video(videoId: string): Promise<MediaVideoState | null>;
  /**
   * Calls `listener` after every change to a video, made by this instance or another (null: any
   * video may have changed); returns the unsubscribe function. Without it nothing is held in
   * memory: access states live `VISIBILITY_TTL_MS` and files are read from storage every time.
   */
  onChange?(listener: (videoId: string | null) => void): () => void;
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

/** Without a change feed, access states are kept this long: a segment request must not cost a query each. */
const VISIBILITY_TTL_MS = 2_000;

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
  const subtitles = access?.subtitles?.bind(access);
  // With a change feed, states and small files stay until their video changes; without one,
  // states live a short TTL and no file is held (nothing would tell that it changed).
  const cache = new MediaCache(access?.onChange ? {} : { ttlMs: VISIBILITY_TTL_MS, maxBytes: 1 });
  const holdsFiles = access?.onChange !== undefined;
  const unsubscribe = access?.onChange?.((videoId) => cache.invalidate(videoId));
  if (unsubscribe) app.addHook("onClose", async () => unsubscribe());
  /** Composed masters by video, master version and tracks: a player reloads it often. */
  const composed = new LRUCache<string, { text: string; etag: string }>(atMostEntries(1000));

  /** Content type, content-security and cache headers every media answer carries. */
  const fileHeaders = (reply: FastifyReply, key: string, signed: boolean) => {
    reply.header("Content-Type", contentTypeFor(key));
    reply.header("X-Content-Type-Options", "nosniff");
    reply.header("Content-Security-Policy", MEDIA_SECURITY_POLICY);
    // Signed (private) files: only the browser that holds the URL may keep them, never a shared cache.
    const cache = key.endsWith(".m3u8") || key.endsWith("/chapters.vtt") ? CACHE_PLAYLIST : CACHE_IMMUTABLE;
    reply.header("Cache-Control", signed ? cache.replace("public", "private") : cache);
  };

  /** Answers from bytes in memory: validators, `HEAD`, conditional requests and ranges. */
  const sendBytes = (
    request: FastifyRequest,
    reply: FastifyReply,
    file: { body: Buffer; etag?: string; modifiedAt?: Date },
  ) => {
    const size = file.body.length;
    reply.header("Accept-Ranges", "bytes");
    if (file.modifiedAt) reply.header("Last-Modified", file.modifiedAt.toUTCString());
    if (file.etag) reply.header("ETag", `"${file.etag}"`);
    if (notModified(request.headers, file.etag, file.modifiedAt ?? new Date(0)) && (file.etag || file.modifiedAt)) {
      return reply.status(304).send();
    }
    const range = rangeApplies(request.headers, file.etag, file.modifiedAt ?? new Date(0))
      ? parseRange(request.headers.range, size)
      : null;
    if (range === "invalid") {
      reply.header("Content-Range", `bytes */${size}`);
      throw errors.rangeNotSatisfiable();
    }
    const body = range ? file.body.subarray(range.start, range.end + 1) : file.body;
    if (range) {
      reply.status(206);
      reply.header("Content-Range", `bytes ${range.start}-${range.end}/${size}`);
    }
    reply.header("Content-Length", body.length);
    return reply.send(request.method === "HEAD" ? undefined : body);
  };

  /** An opened object's bytes, whole. */
  const readAll = async (object: OpenedObject): Promise<Buffer> => {
    const chunks: Buffer[] = [];
    for await (const c of await object.read()) chunks.push(Buffer.from(c));
    return Buffer.concat(chunks);
  };

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
    // The access decision, on every request, before anything is looked up in memory.
    let state: MediaVideoState | null = null;
    if (!avatar && access) {
      if (token !== null) {
        const check = access.signer.verify(videoId, token);
        if (check === "expired") throw errors.mediaUrlExpired();
        if (check === "invalid") throw errors.mediaUrlInvalid();
      }
      state = await cache.state(videoId, () => access.video(videoId));
      // A private video's files exist only under its signed URLs.
      if (token === null && state?.visibility === "PRIVATE") throw errors.mediaNotFound();
    } else if (token !== null) {
      throw errors.mediaNotFound();
    }
    const signed = token !== null;
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
      fileHeaders(reply, key, signed);
      const body = Buffer.from(vtt);
      return sendBytes(request, reply, { body, etag: createHash("sha1").update(body).digest("base64url") });
    }
    const tracks = subtitles && MASTER.test(key) ? await subtitles(videoId) : [];
    // Small files of a READY video: from memory once read.
    const fromMemory = holdsFiles && state?.ready === true && tracks.length === 0 && isSmallFileKey(key);
    const held = fromMemory ? cache.file(key) : undefined;
    if (held) {
      fileHeaders(reply, key, signed);
      return sendBytes(request, reply, held);
    }
    const generation = cache.currentGeneration;
    const object = await storage.open(key);
    if (!object) throw errors.mediaNotFound();
    if (tracks.length > 0) {
      // The transcoder's master plus the SUBTITLES group of the catalog's tracks.
      const id = `${key}\n${object.etag ?? object.modifiedAt.getTime()}\n${JSON.stringify(tracks)}`;
      let out = composed.get(id);
      if (!out) {
        const text = addSubtitlesToMaster((await readAll(object)).toString("utf8"), tracks);
        out = { text, etag: createHash("sha1").update(text).digest("base64url") };
        composed.set(id, out);
      } else await object.close();
      fileHeaders(reply, key, signed);
      return sendBytes(request, reply, { body: Buffer.from(out.text), etag: out.etag });
    }
    if (fromMemory && cache.fits(object.size)) {
      let file: CachedFile;
      try {
        file = { body: await readAll(object), etag: object.etag ?? "", modifiedAt: object.modifiedAt };
      } catch (err) {
        if (err instanceof ObjectNotFoundError) throw errors.mediaNotFound();
        throw err;
      }
      if (!file.etag) file.etag = createHash("sha1").update(file.body).digest("base64url");
      cache.storeFile(key, file, generation);
      fileHeaders(reply, key, signed);
      return sendBytes(request, reply, file);
    }
    let reading = false;
    try {
      const size = object.size;
      fileHeaders(reply, key, signed);
      reply.header("Accept-Ranges", "bytes");
      reply.header("Last-Modified", object.modifiedAt.toUTCString());
      if (object.etag) reply.header("ETag", `"${object.etag}"`);
      if (notModified(request.headers, object.etag, object.modifiedAt)) return reply.status(304).send();
      const range = rangeApplies(request.headers, object.etag, object.modifiedAt)
        ? parseRange(request.headers.range, size)
        : null;
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
