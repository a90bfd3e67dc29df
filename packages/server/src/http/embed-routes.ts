import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { Config } from "@reelkit/core";
import { EmbedLink, EmbedLinkQuery, ErrorBody, OEmbed, OEmbedQuery, VideoParams } from "@reelkit/sdk/contract";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { AuthService } from "../auth/auth-service.js";
import { ownOrigin } from "../auth/origins.js";
import type { Catalog } from "../catalog/catalog.js";
import { absoluteUrl, aspectOf, embedUrl, fitSize, iframeHtml, PROVIDER_NAME, unfurlTags } from "./embed.js";
import { errors } from "./errors.js";
import { mediaBaseUrl, toApiVideo } from "./video-mapper.js";

export interface EmbedRoutesOptions {
  config: Pick<Config, "publicUrl" | "storage" | "baseUrl">;
  catalog: Pick<Catalog, "queries">;
  auth: AuthService;
}

/** How long a PRIVATE video's embed link lasts unless the owner asks otherwise: 30 days. */
const DEFAULT_EMBED_TTL = 30 * 24 * 3600;

/** The server's public origin: REELKIT_BASE_URL, else the one the request came to. */
export function publicOrigin(config: Pick<Config, "baseUrl">, request: FastifyRequest): string {
  return config.baseUrl ?? ownOrigin(request);
}

/** The video id of a watch or embed page URL on `origin`, else null. */
export function videoIdOfPageUrl(url: string, origin: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.origin !== origin) return null;
  const m = /^\/(?:watch|embed)\/([0-9a-f-]{36})\/?$/i.exec(parsed.pathname);
  return m ? (m[1] as string).toLowerCase() : null;
}

/** `GET /api/oembed` (oEmbed 1.0, JSON) and `GET /api/videos/:id/embed` (an owner's embed link). */
export async function embedRoutes(app: FastifyInstance, opts: EmbedRoutesOptions): Promise<void> {
  const { config, catalog, auth } = opts;
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const mediaBase = mediaBaseUrl(config);

  r.get(
    "/api/oembed",
    {
      schema: {
        summary: "oEmbed 1.0 (JSON) for a watch or embed page URL of a READY PUBLIC or UNLISTED video",
        querystring: OEmbedQuery,
        response: { 200: OEmbed, 400: ErrorBody, 404: ErrorBody, 501: ErrorBody },
      },
    },
    async (request, reply) => {
      const { url, maxwidth, maxheight, format = "json" } = request.query;
      if (format !== "json") throw errors.notImplemented("oEmbed is offered as JSON only (format=json)");
      const origin = publicOrigin(config, request);
      const id = videoIdOfPageUrl(url, origin);
      const row = id ? await catalog.queries.get(id) : null;
      // Private and unfinished videos are not embeddable by URL: the same 404 as an unknown one.
      if (!row || row.visibility === "PRIVATE" || row.status !== "READY") {
        throw errors.notFound("No embeddable video at this URL");
      }
      const video = toApiVideo(row, mediaBase);
      const title = video.title || "Untitled";
      const aspect = aspectOf(video);
      const { width, height } = fitSize({
        aspect,
        naturalWidth: video.width,
        maxWidth: maxwidth,
        maxHeight: maxheight,
      });
      const thumbnail = video.posterUrl
        ? {
            thumbnail_url: absoluteUrl(video.posterUrl, origin),
            ...(video.width && video.height ? { thumbnail_width: video.width, thumbnail_height: video.height } : {}),
          }
        : {};
      reply.header("Cache-Control", row.visibility === "PUBLIC" ? "public, max-age=300" : "private, no-store");
      return {
        type: "video" as const,
        version: "1.0" as const,
        title,
        provider_name: PROVIDER_NAME,
        provider_url: `${origin}/`,
        html: iframeHtml({ src: embedUrl(origin, video.id), width, height, title }),
        width,
        height,
        ...thumbnail,
      };
    },
  );

  r.get(
    "/api/videos/:id/embed",
    {
      schema: {
        summary:
          "The video's embed link and iframe snippet; a PRIVATE video's carries an expiring token (its owner or an admin only)",
        params: VideoParams,
        querystring: EmbedLinkQuery,
        response: { 200: EmbedLink, 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (request, reply) => {
      const row = await catalog.queries.get(request.params.id);
      if (!row || !AuthService.canView(await auth.principal(request), row))
        throw errors.videoNotFound(request.params.id);
      const origin = publicOrigin(config, request);
      const signed =
        row.visibility === "PRIVATE"
          ? auth.embedSigner.token(row.id, request.query.expiresIn ?? DEFAULT_EMBED_TTL)
          : null;
      const url = embedUrl(origin, row.id, signed?.token);
      const video = toApiVideo(row, mediaBase);
      const { width, height } = fitSize({ aspect: aspectOf(video), naturalWidth: video.width });
      reply.header("Cache-Control", "private, no-store");
      return {
        url,
        html: iframeHtml({ src: url, width, height, title: video.title || "Untitled" }),
        expiresAt: signed ? signed.expiresAt.toISOString() : null,
      };
    },
  );
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The unfurl tags of a watch page (demo routes' `watchPageTags`): READY PUBLIC and UNLISTED videos only. */
export function watchPageTags(opts: Omit<EmbedRoutesOptions, "auth">) {
  const mediaBase = mediaBaseUrl(opts.config);
  return async (request: FastifyRequest, videoId: string): Promise<string | null> => {
    if (!UUID.test(videoId)) return null;
    const row = await opts.catalog.queries.get(videoId.toLowerCase());
    return row ? unfurlTags(toApiVideo(row, mediaBase), publicOrigin(opts.config, request)) : null;
  };
}
