import Fastify from "fastify";
import { describe, expect, it } from "vitest";
import { fastifyTrustProxy } from "./trust-proxy.js";

/** What Fastify makes of a request from 127.0.0.1 with these forwarded headers. */
async function seen(trust: Parameters<typeof fastifyTrustProxy>[0], headers: Record<string, string>) {
  const app = Fastify({ trustProxy: fastifyTrustProxy(trust) });
  app.get("/", async (request) => ({ ip: request.ip, host: request.host, protocol: request.protocol }));
  const res = await app.inject({ url: "/", headers: { host: "direct.example", ...headers } });
  await app.close();
  return res.json();
}

describe("REELKIT_TRUST_PROXY in Fastify", () => {
  const forwarded = {
    "x-forwarded-for": "203.0.113.7, 10.0.0.2",
    "x-forwarded-host": "video.example",
    "x-forwarded-proto": "https",
  };

  it("ignores forwarded headers when no proxy is trusted", async () => {
    expect(await seen(false, forwarded)).toEqual({ ip: "127.0.0.1", host: "direct.example", protocol: "http" });
    expect(await seen(["10.0.0.0/8"], forwarded)).toEqual({
      ip: "127.0.0.1",
      host: "direct.example",
      protocol: "http",
    });
  });

  it("believes the proxies it names, and as many hops as it counts", async () => {
    expect(await seen(["loopback"], forwarded)).toEqual({ ip: "10.0.0.2", host: "video.example", protocol: "https" });
    expect(await seen(["loopback", "10.0.0.0/8"], forwarded)).toMatchObject({ ip: "203.0.113.7" });
    expect(await seen(1, forwarded)).toEqual({ ip: "10.0.0.2", host: "video.example", protocol: "https" });
    expect(await seen(2, forwarded)).toMatchObject({ ip: "203.0.113.7" });
    expect(await seen(true, forwarded)).toMatchObject({ ip: "203.0.113.7", host: "video.example" });
  });
});
