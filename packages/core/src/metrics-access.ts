import { createHash, timingSafeEqual } from "node:crypto";

/**
 * Who may read `/metrics` (of reelkit-server and reelkit-transcoder alike). Metrics name routes,
 * queue depths and process internals: not for everyone.
 * - With `REELKIT_METRICS_TOKEN` set, every client (loopback included) sends it as
 *   `Authorization: Bearer <token>`; anything else is 401.
 * - Without it, loopback clients only (a scraper on the same host or in the same pod); others get
 *   403. Behind a reverse proxy on the same host every client looks local: set the token there
 *   (or keep the proxy from forwarding `/metrics`).
 */
export type MetricsAccess =
  | { allowed: true }
  | { allowed: false; status: 401 | 403; code: "UNAUTHORIZED" | "FORBIDDEN"; message: string };

export interface MetricsRequest {
  /** The client's address as the server saw it (IPv4, IPv6 or IPv4-mapped IPv6). */
  remoteAddress: string | undefined;
  /** The `Authorization` header, if any. */
  authorization: string | undefined;
}

export function metricsAccess(token: string | null, request: MetricsRequest): MetricsAccess {
  if (token !== null) {
    const sent = /^bearer\s+(\S+)\s*$/i.exec(request.authorization ?? "")?.[1];
    if (sent !== undefined && sameSecret(sent, token)) return { allowed: true };
    return {
      allowed: false,
      status: 401,
      code: "UNAUTHORIZED",
      message: "Send the metrics token (REELKIT_METRICS_TOKEN) as Authorization: Bearer <token>",
    };
  }
  if (isLoopback(request.remoteAddress)) return { allowed: true };
  return {
    allowed: false,
    status: 403,
    code: "FORBIDDEN",
    message: "/metrics answers loopback clients only; set REELKIT_METRICS_TOKEN to scrape it from elsewhere",
  };
}

/** Constant-time comparison; hashing first makes the lengths equal without revealing the token's. */
function sameSecret(a: string, b: string): boolean {
  const digest = (s: string) => createHash("sha256").update(s).digest();
  return timingSafeEqual(digest(a), digest(b));
}

export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = address.startsWith("::ffff:") ? address.slice("::ffff:".length) : address;
  return address === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}
