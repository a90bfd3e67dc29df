import type { IncomingMessage, ServerResponse } from "node:http";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";

/** Body bytes buffered ahead of the store before the socket is paused. */
const BODY_HIGH_WATER_MARK = 1024 * 1024;

/**
 * The request body as a web stream that hands the socket's Buffers on as they are. Node 20's
 * `Readable.toWeb` (what @tus/server's own adapter uses) copies every chunk and pauses the
 * socket after each one (its queue holds only 16 KiB); on the upload path that cost about a
 * third of the server's CPU per byte. The chunks are fresh per-read allocations that nothing
 * else holds, so passing them on uncopied is safe.
 */
function bodyStream(req: IncomingMessage): ReadableStream<Uint8Array> {
  let done = false;
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        req.on("data", (chunk: Buffer) => {
          controller.enqueue(chunk);
          if ((controller.desiredSize ?? 0) <= 0) req.pause();
        });
        req.once("end", () => {
          if (done) return;
          done = true;
          controller.close();
        });
        const fail = (err: Error) => {
          if (done) return;
          done = true;
          controller.error(err);
        };
        req.once("error", fail);
        req.once("close", () => {
          if (!req.complete) fail(new Error("request aborted"));
        });
      },
      pull() {
        req.resume();
      },
      cancel(reason) {
        done = true;
        req.destroy(reason instanceof Error ? reason : undefined);
      },
    },
    { highWaterMark: BODY_HIGH_WATER_MARK, size: (chunk) => chunk.byteLength },
  );
}

/**
 * A web `Request` for @tus/server's `handleWeb`, built from the Node request with the given
 * headers. `runtime.node` is what @tus/server's own adapter sets: it aborts the upload cleanly
 * (keeping the bytes received) when the client disconnects.
 */
export function toWebRequest(req: IncomingMessage, res: ServerResponse, headers: Headers): Request {
  const hasBody = req.method !== "GET" && req.method !== "HEAD" && req.method !== "OPTIONS";
  const url = `http://${headers.get("host") ?? "localhost"}${req.url ?? "/"}`;
  const request = new Request(url, {
    method: req.method,
    headers,
    body: hasBody ? bodyStream(req) : null,
    // Required by fetch for a streamed request body.
    duplex: "half",
  } as RequestInit);
  Object.defineProperty(request, "runtime", { value: { node: { req, res } } });
  return request;
}

/** Writes a web `Response` to the Node response. */
export async function sendWebResponse(res: ServerResponse, response: Response): Promise<void> {
  res.statusCode = response.status;
  response.headers.forEach((value, name) => {
    res.setHeader(name, value);
  });
  if (!response.body) {
    res.end();
    return;
  }
  await pipeline(Readable.fromWeb(response.body as import("node:stream/web").ReadableStream), res).catch(() => {
    // the client went away; nothing left to tell it
  });
}
