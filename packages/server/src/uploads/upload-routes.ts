import { randomUUID } from "node:crypto";
import type { Config, Logger, Metrics, Storage } from "@reelkit/core";
import { UPLOADS_PATH, VIDEO_ID_HEADER } from "@reelkit/sdk/contract";
import { EVENTS, type Locker, Server as TusServer } from "@tus/server";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { errorBody } from "../http/errors.js";
import {
  type CompletionCatalog,
  failExpiredUploads,
  finishInterruptedUploads,
  linkUploadToSource,
} from "./upload-completion.js";
import { createUploadBackend } from "./upload-store.js";
import { sendWebResponse, toWebRequest } from "./web-request.js";

/** What the upload flow needs from the catalog (CatalogService satisfies it). */
export interface UploadCatalog extends CompletionCatalog {
  /** The client terminated the upload (tus DELETE): its video goes too. */
  cancelUpload(videoId: string): Promise<unknown>;
  createForUpload(input: {
    videoId: string;
    uploadId: string;
    title: string;
    description: string;
    filename: string | null;
  }): Promise<unknown>;
}

export interface UploadRoutesOptions {
  config: Pick<Config, "maxUploadSize" | "uploadExpirySeconds" | "corsOrigins" | "storage">;
  storage: Storage;
  catalog: UploadCatalog;
  logger?: Logger;
  /** Serialises requests to one upload; in-process when absent (one server instance). */
  locker?: Locker;
  metrics?: Metrics;
}

// Set by the Fastify route on creation requests so tus names the upload after the new video.
const ID_HEADER = "x-reelkit-internal-video-id";
// Uploads expire after `uploadExpirySeconds`, and a finished upload whose finish hook failed
// (database down) is retried by the same sweep: every 5 minutes at most keeps both delays short.
const MAX_SWEEP_INTERVAL_MS = 300_000;
// A complete upload younger than this may still be inside its own finish hook: the sweep leaves it.
const MAX_FINISH_GRACE_MS = 60_000;

function titleFrom(metadata: Record<string, string | null> | undefined): {
  title: string;
  description: string;
  filename: string | null;
} {
  // Upload-Metadata is base64 of anything; PostgreSQL text cannot hold NUL, so drop it.
  const text = (v: string | null | undefined) => (v ?? "").replaceAll("\u0000", "");
  const filename = text(metadata?.filename).trim() || null;
  const fromName = filename ? filename.replace(/\.[^.]+$/, "") : "";
  const title = (text(metadata?.title).trim() || fromName || "Untitled").slice(0, 200);
  return { title, description: text(metadata?.description).slice(0, 5000), filename };
}

/** tus 1.0 at `/api/uploads`: creation, creation-with-upload, termination, expiration. */
export async function uploadRoutes(app: FastifyInstance, opts: UploadRoutesOptions): Promise<void> {
  const { config, storage, catalog } = opts;
  const backend = createUploadBackend({ config, storage });
  const { datastore } = backend;
  // Every id tus hands to a hook was issued by `namingFunction`, so it maps back to a video.
  const videoIdOf = (tusId: string) => backend.videoId(tusId) ?? tusId;
  const anyOrigin = config.corsOrigins.includes("*");
  const tus = new TusServer({
    path: UPLOADS_PATH,
    datastore,
    locker: opts.locker,
    maxSize: config.maxUploadSize,
    relativeLocation: true,
    respectForwardedHeaders: true,
    allowedOrigins: anyOrigin ? undefined : config.corsOrigins,
    exposedHeaders: [VIDEO_ID_HEADER],
    namingFunction: (req) => backend.tusId(req.headers.get(ID_HEADER) ?? randomUUID()),
    // URLs name the video id; the store may key the upload differently (S3: `uploads/<id>`).
    generateUrl: (_req, { path, id }) => `${path}/${videoIdOf(id)}`,
    getFileIdFromRequest: (_req, lastPath) =>
      lastPath && /^[A-Za-z0-9_-]+$/.test(lastPath) ? backend.tusId(lastPath) : undefined,
    onUploadCreate: async (_req, upload) => {
      const videoId = videoIdOf(upload.id);
      await catalog.createForUpload({ videoId, uploadId: videoId, ...titleFrom(upload.metadata) });
      opts.metrics?.uploads.inc({ event: "created" });
      return {};
    },
    onUploadFinish: async (_req, upload) => {
      // tus re-reads the upload after this hook, so the file must stay until the response is
      // written: link it to its source key now (no copy on one filesystem), remove it after.
      // A crash between the link and finishUpload is repaired by the start-up sweep below.
      const videoId = videoIdOf(upload.id);
      const sourceKey = await linkUploadToSource(storage, videoId, videoId);
      await catalog.finishUpload(videoId, { sourceKey, sourceSize: upload.size ?? upload.offset });
      opts.metrics?.uploads.inc({ event: "finished" });
      return {};
    },
    onResponseError: (_req, err) => {
      if ("status_code" in err && err.status_code === 413) {
        return {
          status_code: 413,
          body: JSON.stringify(
            errorBody(
              "UPLOAD_TOO_LARGE",
              `Upload exceeds the maximum size of ${config.maxUploadSize} bytes (REELKIT_MAX_UPLOAD_SIZE)`,
            ),
          ),
        };
      }
      return undefined;
    },
  });

  tus.on(EVENTS.POST_TERMINATE, (_req, _res, id) => {
    const videoId = videoIdOf(id);
    opts.metrics?.uploads.inc({ event: "terminated" });
    catalog
      .cancelUpload(videoId)
      .catch((err) =>
        opts.logger?.warn({ err, uploadId: videoId }, "could not remove the video of a cancelled upload"),
      );
  });

  tus.on(EVENTS.POST_FINISH, (_req, _res, upload) => {
    const videoId = videoIdOf(upload.id);
    backend
      .removeFinished(videoId)
      .catch((err) => opts.logger?.warn({ err, uploadId: videoId }, "upload cleanup failed"));
  });

  // tus reads the raw request body itself; Fastify must leave the stream untouched.
  app.addContentTypeParser("application/offset+octet-stream", (_req, _payload, done) => done(null));

  const handle = async (request: FastifyRequest, reply: FastifyReply) => {
    reply.hijack();
    const raw = request.raw;
    // A client must never choose the id: drop any copy of the internal header it sent.
    const headers = new Headers();
    for (let i = 0; i + 1 < raw.rawHeaders.length; i += 2) {
      const name = raw.rawHeaders[i] as string;
      if (name.toLowerCase() !== ID_HEADER) headers.append(name, raw.rawHeaders[i + 1] as string);
    }
    if (request.method === "POST") {
      const videoId = randomUUID();
      headers.set(ID_HEADER, videoId);
      reply.raw.setHeader(VIDEO_ID_HEADER, videoId);
    }
    await sendWebResponse(reply.raw, await tus.handleWeb(toWebRequest(raw, headers)));
  };
  const methods = ["GET", "HEAD", "POST", "PATCH", "DELETE", "OPTIONS"] as const;
  // tus is its own protocol (headers, not JSON bodies): the OpenAPI document names it in its
  // description instead of listing these routes.
  const schema = { hide: true };
  app.route({ method: [...methods], url: UPLOADS_PATH, schema, handler: handle });
  app.route({ method: [...methods], url: `${UPLOADS_PATH}/*`, schema, handler: handle });

  // Before the port opens: finish uploads whose last byte landed just before a crash.
  app.addHook("onReady", async () => {
    await finishInterruptedUploads({ uploads: backend.uploads, storage, catalog, logger: opts.logger }).catch((err) =>
      opts.logger?.error({ err }, "interrupted upload sweep failed"),
    );
  });

  const sweep = () => {
    tus
      .cleanUpExpiredUploads()
      .then((n) => {
        if (n > 0) opts.logger?.info({ removed: n }, "removed expired uploads");
        const createdBefore = new Date(Date.now() - config.uploadExpirySeconds * 1000);
        return failExpiredUploads({ uploads: backend.uploads, storage, catalog, createdBefore, logger: opts.logger });
      })
      .then(() => {
        const grace = Math.min(MAX_FINISH_GRACE_MS, config.uploadExpirySeconds * 1000);
        const settledBefore = new Date(Date.now() - grace);
        return finishInterruptedUploads({
          uploads: backend.uploads,
          storage,
          catalog,
          settledBefore,
          logger: opts.logger,
        });
      })
      .catch((err) => opts.logger?.warn({ err }, "expired upload sweep failed"));
  };
  const timer = setInterval(sweep, Math.min(config.uploadExpirySeconds * 1000, MAX_SWEEP_INTERVAL_MS));
  timer.unref();
  app.addHook("onClose", async () => clearInterval(timer));
}
