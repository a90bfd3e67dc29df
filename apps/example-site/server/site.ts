/**
 * The backend of a site that uses Reelkit: it holds the API key (never the page), mints one
 * upload token per browser upload with the video's settings and a `passthrough` of its own,
 * and learns how each upload ends from signed webhooks. What it knows is kept in a JSON file.
 */
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import fastifyStatic from "@fastify/static";
import {
  createReelkitServer,
  type ReelkitServer,
  type Video,
  verifyWebhook,
  WebhookVerificationError,
} from "@reelkit/sdk/server";
import Fastify, { type FastifyInstance } from "fastify";

/** One upload the site asked a token for: its own id (the passthrough) and, once known, the video. */
export interface Clip {
  passthrough: string;
  fileName: string;
  videoId: string | null;
  /** The video's status from the last webhook (`UPLOADING` … `READY`, `FAILED`), null before one. */
  status: string | null;
  /** The last event type received for it. */
  lastEvent: string | null;
}

/** A verified webhook delivery, as received. */
export interface ReceivedEvent {
  webhookId: string;
  type: string;
  videoId: string;
  passthrough: string | null;
}

interface SiteData {
  clips: Clip[];
  events: ReceivedEvent[];
  /** The webhook endpoint's `whsec_…` secret, kept when the site registered the endpoint itself. */
  webhookSecret: string | null;
}

/** The site's memory: a JSON file when `file` is given (survives restarts), else in memory only. */
export class SiteStore {
  readonly data: SiteData;

  constructor(private readonly file?: string) {
    this.data =
      file && fs.existsSync(file)
        ? (JSON.parse(fs.readFileSync(file, "utf8")) as SiteData)
        : { clips: [], events: [], webhookSecret: null };
  }

  save(): void {
    if (this.file) fs.writeFileSync(this.file, JSON.stringify(this.data, null, 2));
  }
}

export interface SiteOptions {
  /** The Reelkit server's origin, e.g. https://video.example.com. */
  reelkitUrl: string;
  /** An API key (`rk_…`): from the Developer page, `reelkit keys create` or `POST /api/api-keys`. */
  apiKey: string;
  /** The webhook endpoint's secret; the one in the store (see `registerWebhook`) when absent. */
  webhookSecret?: string;
  store: SiteStore;
  /** The built page (vite build's dist/), served at `/`. */
  pageDir?: string;
}

export function buildSite(options: SiteOptions): FastifyInstance {
  const { store } = options;
  const reelkit = createReelkitServer({ baseUrl: options.reelkitUrl, apiKey: options.apiKey });
  const app = Fastify({ logger: false });

  // The page learns where Reelkit is from its own backend: one build serves any deployment.
  app.get("/api/config", async () => ({ reelkitUrl: options.reelkitUrl }));

  // One token per upload, asked by <Uploader getToken> (once; a resumed upload reuses its own).
  app.post<{ Body: { fileName?: string; visibility?: Video["visibility"]; tags?: string[] } }>(
    "/api/upload-token",
    async (request, reply) => {
      const { fileName = "video", visibility = "UNLISTED", tags = [] } = request.body ?? {};
      const passthrough = `clip_${randomUUID()}`;
      const token = await reelkit.createUploadToken({
        passthrough,
        title: fileName.replace(/\.[^.]+$/, "").slice(0, 200) || "Untitled",
        visibility,
        tags,
        contentTypes: ["video/*"],
        expiresIn: 3600,
      });
      store.data.clips.push({ passthrough, fileName, videoId: null, status: null, lastEvent: null });
      store.save();
      return reply.code(201).send(token);
    },
  );

  app.get("/api/clips", async () => ({ clips: store.data.clips, events: store.data.events }));

  // Webhooks: verified over the exact bytes received, so this route keeps the body as a string.
  app.register(async (hooks) => {
    hooks.addContentTypeParser("application/json", { parseAs: "string" }, (_req, body, done) => done(null, body));
    hooks.post("/webhooks/reelkit", async (request, reply) => {
      const secret = options.webhookSecret ?? store.data.webhookSecret;
      if (!secret) return reply.code(503).send({ error: "no webhook secret yet" });
      let event: ReturnType<typeof verifyWebhook<Video>>;
      try {
        event = verifyWebhook<Video>(request.body as string, request.headers, secret);
      } catch (err) {
        if (err instanceof WebhookVerificationError) return reply.code(400).send({ error: err.message });
        throw err;
      }
      // At least once: a retry or redelivery carries the same webhook-id.
      if (store.data.events.some((e) => e.webhookId === event.id)) return reply.code(204).send();
      const video = event.data;
      store.data.events.push({
        webhookId: event.id,
        type: event.type,
        videoId: video.id,
        passthrough: video.passthrough ?? null,
      });
      const clip = store.data.clips.find((c) => c.passthrough === video.passthrough);
      if (clip) {
        clip.videoId = video.id;
        clip.status = event.type === "video.deleted" ? "DELETED" : video.status;
        clip.lastEvent = event.type;
      }
      store.save();
      return reply.code(204).send();
    });
  });

  if (options.pageDir) app.register(fastifyStatic, { root: options.pageDir });
  return app;
}

/**
 * Registers `url` as the key's user's webhook endpoint for the events the site follows and
 * keeps its secret in the store (Reelkit shows it once).
 */
export async function registerWebhook(reelkit: ReelkitServer, store: SiteStore, url: string): Promise<void> {
  const endpoint = await reelkit.createWebhook({
    url,
    events: ["video.created", "video.uploaded", "video.ready", "video.failed", "video.deleted"],
  });
  store.data.webhookSecret = endpoint.secret;
  store.save();
}
