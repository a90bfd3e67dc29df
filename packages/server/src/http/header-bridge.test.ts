import http from "node:http";
import Fastify, { type FastifyInstance } from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { copyReplyHeaders, toWebHeaders } from "./header-bridge.js";

describe("toWebHeaders", () => {
  it("keeps every value of a repeated header and leaves out the omitted names", () => {
    const headers = toWebHeaders(
      { accept: "text/html", "set-cookie": ["a=1", "b=2"], "x-internal": "secret", missing: undefined },
      (name) => name === "x-internal",
    );
    expect([...headers.entries()]).toEqual([
      ["accept", "text/html"],
      ["set-cookie", "a=1"],
      ["set-cookie", "b=2"],
    ]);
  });
});

describe("copyReplyHeaders", () => {
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await app?.close();
  });

  it("writes the headers set on a hijacked reply", async () => {
    const server = Fastify();
    app = server;
    server.addHook("onRequest", async (_request, reply) => {
      reply.header("access-control-allow-origin", "*");
    });
    server.get("/hijacked", async (_request, reply) => {
      reply.header("x-count", 3);
      reply.hijack();
      copyReplyHeaders(reply);
      reply.raw.writeHead(200, { "content-type": "text/plain" });
      reply.raw.end("raw");
    });
    const address = await server.listen({ port: 0, host: "127.0.0.1" });
    const response = await new Promise<http.IncomingMessage>((resolve) => http.get(`${address}/hijacked`, resolve));
    response.resume();
    expect(response.headers).toMatchObject({
      "access-control-allow-origin": "*",
      "x-count": "3",
      "content-type": "text/plain",
    });
  });
});
