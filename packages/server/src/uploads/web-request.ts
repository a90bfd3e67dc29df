import type { IncomingMessage, ServerResponse } from "node:http";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { YoungCollector } from "../young-collector.js";

/** Body bytes buffered ahead of the store before the socket is paused. */
const BODY_HIGH_WATER_MARK = 1024 * 1024;
/**
 * Request-body bytes between two young-generation collections (see YoungCollector). 32 MiB was
 * enough with V8's default heap limits, not under `npm start`'s `--max-old-space-size=512`, where
 * external memory weighs more against the heap limit: 3 full collections per 128 MiB remained.
 */
const COLLECT_EVERY_BYTES = 8 * 1024 * 1024;

/** One for the process: what counts is how much body memory all uploads together leave behind. */
const collector = new YoungCollector(COLLECT_EVERY_BYTES);

/**
 * The request body as a web stream for @tus/server. `Readable.toWeb` (what @tus/server's own
 * adapter uses) copies every socket chunk and pauses the socket after each small one. Here the
 * socket's own Buffers go down the pipe as they are (no copy) behind a 1 MiB queue, and every
 * 8 MiB received the young generation is collected, which frees the Buffers already written
 * before their external memory forces full collections (YoungCollector);
 * `npm run bench -- --only upload` measures the CPU per MiB against a plain streaming PUT.
 *
 * A client that disconnects ends the stream normally after the bytes it did send: tus stores
 * them and the client resumes from that offset.
 */
function bodyStream(req: IncomingMessage): ReadableStream<Uint8Array> {
  let done = false;
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        const end = () => {
          if (done) return;
          done = true;
          controller.close();
        };
        req.on("data", (chunk: Buffer) => {
          controller.enqueue(chunk);
          collector.streamed(chunk.length);
          if ((controller.desiredSize ?? 0) <= 0) req.pause();
        });
        req.once("end", end);
        req.once("error", end);
        req.once("close", end);
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
 * headers, at `path` (the request's own URL unless given). Unlike @tus/server's own adapter it sets no `runtime.node`: with it, tus aborts the
 * write as soon as the client disconnects and drops the bytes still queued in the body stream,
 * whereas this body stream ends after delivering every byte received, which tus then stores.
 */
export function toWebRequest(req: IncomingMessage, headers: Headers, path = req.url ?? "/"): Request {
  const hasBody = req.method !== "GET" && req.method !== "HEAD" && req.method !== "OPTIONS";
  const url = `http://${headers.get("host") ?? "localhost"}${path}`;
  return new Request(url, {
    method: req.method,
    headers,
    body: hasBody ? bodyStream(req) : null,
    // Required by fetch for a streamed request body.
    duplex: "half",
  } as RequestInit);
}

/** Writes a web `Response` to the Node response, leaving out the headers `omit` names. */
export async function sendWebResponse(
  res: ServerResponse,
  response: Response,
  opts: { omit?: (lowerCaseName: string) => boolean } = {},
): Promise<void> {
  res.statusCode = response.status;
  response.headers.forEach((value, name) => {
    if (!opts.omit?.(name)) res.setHeader(name, value);
  });
  if (!response.body) {
    res.end();
    return;
  }
  await pipeline(Readable.fromWeb(response.body as import("node:stream/web").ReadableStream), res).catch(() => {
    // the client went away; nothing left to tell it
  });
}
