import type { IncomingHttpHeaders } from "node:http";
import type { FastifyReply } from "fastify";

/**
 * A Node request's headers as web `Headers` (what Better Auth and tus read), every value of a
 * repeated header kept; `omit` (given lower-case names) leaves headers out.
 */
export function toWebHeaders(headers: IncomingHttpHeaders, omit?: (name: string) => boolean): Headers {
  const web = new Headers();
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || omit?.(name)) continue;
    for (const v of Array.isArray(value) ? value : [value]) web.append(name, v);
  }
  return web;
}

/**
 * Puts the headers set on a Fastify reply so far (CORS, the security headers, the route's own)
 * on its raw response. A hijacked reply bypasses Fastify's writing of them: a route that hijacks
 * calls this before it writes the head.
 */
export function copyReplyHeaders(reply: FastifyReply): void {
  for (const [name, value] of Object.entries(reply.getHeaders())) {
    if (value !== undefined) reply.raw.setHeader(name, value);
  }
}
