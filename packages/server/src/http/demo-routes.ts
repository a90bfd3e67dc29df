import fs from "node:fs/promises";
import path from "node:path";
import fastifyStatic from "@fastify/static";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";

export interface DemoRoutesOptions {
  /** The built demo site (Vite's `dist`): index.html plus hashed files under assets/. */
  root: string;
  /** The pages' Content-Security-Policy (`pageSecurityPolicy`), in place of the API's strict one. */
  contentSecurityPolicy: string;
  /**
   * The `<head>` tags of `/watch/:id` (OpenGraph, Twitter player, oEmbed discovery), put into
   * index.html so that a link unfurls without running the app; null for none.
   */
  watchPageTags?: (request: FastifyRequest, videoId: string) => Promise<string | null>;
}

// Vite puts a content hash in every file name under assets/, so a URL never changes meaning.
const IMMUTABLE = "public, max-age=31536000, immutable";
// index.html names the current hashes; browsers must revalidate it on every visit.
const REVALIDATE = "no-cache";

/** Paths owned by the API and media delivery: never answered with the demo's HTML. */
const RESERVED = /^\/(?:api|media)(?:\/|$)/;

/** The player alone (embed.html, its own entry of the demo's build), for iframes. */
const EMBED_PAGE = /^\/embed\/[^/]+\/?$/;
const WATCH_PAGE = /^\/watch\/([^/]+)\/?$/;

/** Serves the demo single-page app at `/`, with index.html for client-side routes. */
export async function demoRoutes(app: FastifyInstance, options: DemoRoutesOptions): Promise<void> {
  const root = path.resolve(options.root);
  // Only `reply.sendFile`: the catch-all below decides what is a file and what is a page.
  await app.register(fastifyStatic, { root, serve: false });

  app.get("/*", async (request, reply) => {
    const pathname = request.url.split("?")[0] ?? "/";
    if (RESERVED.test(pathname)) return reply.callNotFound();
    const file = await resolveFile(root, pathname);
    if (file === "invalid") return reply.callNotFound();
    // The pages' policy, on every file too: a worker script runs under its own response's policy.
    const policy = options.contentSecurityPolicy;
    if (file) {
      const immutable = file.startsWith("assets/");
      return reply
        .header("cache-control", immutable ? IMMUTABLE : REVALIDATE)
        .header("content-security-policy", policy)
        .sendFile(file, { cacheControl: false });
    }
    // A missing hashed asset is a stale client; HTML in its place would only hide the error.
    if (pathname.startsWith("/assets/") || !acceptsHtml(request)) return reply.callNotFound();
    if (EMBED_PAGE.test(pathname)) return sendPage(reply, policy, "embed.html");
    const watched = WATCH_PAGE.exec(pathname)?.[1];
    const tags = watched && options.watchPageTags ? await options.watchPageTags(request, safeDecode(watched)) : null;
    if (tags) {
      const html = await fs.readFile(path.join(root, "index.html"), "utf8");
      return reply
        .header("cache-control", REVALIDATE)
        .header("content-security-policy", policy)
        .type("text/html; charset=utf-8")
        .send(html.includes("</head>") ? html.replace("</head>", `  ${tags}\n  </head>`) : `${tags}\n${html}`);
    }
    return sendIndex(reply, policy);
  });
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function sendPage(reply: FastifyReply, policy: string, file: string): FastifyReply {
  return reply
    .header("cache-control", REVALIDATE)
    .header("content-security-policy", policy)
    .sendFile(file, { cacheControl: false });
}

function sendIndex(reply: FastifyReply, policy: string): FastifyReply {
  return sendPage(reply, policy, "index.html");
}

/**
 * The root-relative path of an existing regular file under `root`, null when there is none,
 * "invalid" for a path that is not decodable or leaves the root.
 */
async function resolveFile(root: string, pathname: string): Promise<string | null | "invalid"> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return "invalid";
  }
  if (decoded.includes("\0") || decoded.includes("\\")) return "invalid";
  const relative = decoded.replace(/^\/+/, "");
  if (relative === "") return null;
  const absolute = path.resolve(root, relative);
  if (!absolute.startsWith(root + path.sep)) return "invalid";
  const stat = await fs.stat(absolute).catch(() => null);
  return stat?.isFile() ? path.relative(root, absolute).split(path.sep).join("/") : null;
}

// Browsers navigating send text/html; curl sends */* or nothing, and wants the page too.
function acceptsHtml(request: FastifyRequest): boolean {
  const accept = request.headers.accept;
  if (!accept) return true;
  return /(?:^|,)\s*(?:text\/html|text\/\*|\*\/\*)\s*(?:;|,|$)/.test(accept);
}
