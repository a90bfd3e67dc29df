import type { TrustProxy } from "@reelkit/core";

/**
 * REELKIT_TRUST_PROXY as Fastify's `trustProxy` option. Fastify 5 takes no hop count any more
 * (a number trusts nothing); a count of N is the function that trusts the socket's peer and
 * the N-1 proxies before it, as Express and proxy-addr define it. It is for a server that only
 * its proxies can reach: whoever connects directly is believed too.
 */
export function fastifyTrustProxy(trust: TrustProxy): boolean | string[] | ((address: string, hop: number) => boolean) {
  if (typeof trust !== "number") return trust;
  return (_address, hop) => hop < trust;
}
