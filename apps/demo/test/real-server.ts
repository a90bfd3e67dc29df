/**
 * A real Reelkit server for the demo's page tests: the server's `buildApp` on a fresh embedded
 * catalog, listening on 127.0.0.1, with no transcoder (tests move videos through the catalog's
 * own transitions instead). The pages talk to it through a real sdk client over HTTP.
 */
import { randomUUID } from "node:crypto";
import path from "node:path";
import { keys, LocalStorage, loadConfig } from "@reelkit/core";
import { createReelkitClient, type ReelkitClient } from "@reelkit/sdk";
import { buildApp } from "../../../packages/server/src/app.js";
import { type Catalog, createCatalog } from "../../../packages/server/src/catalog/catalog.js";
import { createTestDatabase } from "../../../packages/server/src/db/test-databases.js";
import { WebhookRepository } from "../../../packages/server/src/webhooks/webhook-repository.js";
import { testAuth } from "../../../packages/server/test/auth.js";
import { readyEvent, signUp, type TestUser } from "../../../packages/server/test/factories.js";

export interface DemoServer {
  baseUrl: string;
  /** Signed in as `user` (a bearer token: jsdom keeps no cookies). */
  client: ReelkitClient;
  /** Signed out. */
  anonymousClient: ReelkitClient;
  /** The signed-in user; the videos made below are theirs. */
  user: TestUser;
  catalog: Catalog;
  /** The server's media storage (a local directory), to put a video's files where a test needs them. */
  storage: LocalStorage;
  /** Webhook endpoints and deliveries (no delivery loop runs: tests write deliveries themselves). */
  webhooks: WebhookRepository;
  /** A video that finished uploading and waits for the transcoder (attempt 1). */
  makeQueuedVideo(input: VideoInput): Promise<string>;
  /** A published video with a 3 s, one-rung ladder. */
  makeReadyVideo(input: VideoInput): Promise<string>;
  close(): Promise<void>;
}

export interface VideoInput {
  title: string;
  description?: string;
}

/**
 * fetch as the server's own page uses it: a browser sends its Origin with every POST, Node's
 * fetch sends none (and the server's auth routes refuse a browser-like request without it).
 */
function pageFetch(origin: string): typeof fetch {
  return async (input, init) => {
    const headers = new Headers(init?.headers);
    const method = (init?.method ?? "GET").toUpperCase();
    if (method !== "GET" && method !== "HEAD" && !headers.has("origin")) headers.set("origin", origin);
    // A page's File or Blob (jsdom's, which Node's fetch does not know) is sent as its bytes, as a browser would.
    const body = init?.body;
    const blob = body && typeof (body as Blob).arrayBuffer === "function" ? (body as Blob) : null;
    return globalThis.fetch(input, {
      ...init,
      headers,
      ...(blob && { body: new Uint8Array(await blob.arrayBuffer()) }),
    });
  };
}

/** `env`: more server configuration (e.g. sign-in providers). */
export async function startDemoServer(options: { env?: Record<string, string> } = {}): Promise<DemoServer> {
  const tdb = await createTestDatabase("embedded");
  const config = loadConfig({ REELKIT_DATA_DIR: tdb.dataDir, REELKIT_LOG_LEVEL: "silent", ...options.env });
  const storage = new LocalStorage(path.join(tdb.dataDir, "media"));
  const catalog = createCatalog(tdb.db.prisma);
  const webhooks = new WebhookRepository(tdb.db.prisma);
  const app = await buildApp({ config, storage, catalog, auth: testAuth(tdb.db.prisma, config), webhooks });
  // Fastify's listen resolves with the address it bound (http://127.0.0.1:<port>).
  const baseUrl = await app.listen({ port: 0, host: "127.0.0.1" });
  const user = await signUp(baseUrl, { name: "Demo Tester" });

  const makeQueuedVideo = async ({ title, description = "" }: VideoInput) => {
    const videoId = randomUUID();
    await catalog.uploads.createForUpload({
      videoId,
      uploadId: videoId,
      title,
      description,
      filename: "clip.mp4",
      ownerId: user.id,
    });
    await catalog.uploads.finishUpload(videoId, { sourceKey: keys.source(videoId), sourceSize: 1024 });
    return videoId;
  };

  return {
    baseUrl,
    client: createReelkitClient({ baseUrl, getToken: () => user.token, fetch: pageFetch(baseUrl) }),
    anonymousClient: createReelkitClient({ baseUrl, fetch: pageFetch(baseUrl) }),
    user,
    catalog,
    storage,
    webhooks,
    makeQueuedVideo,
    async makeReadyVideo(input) {
      const videoId = await makeQueuedVideo(input);
      await catalog.transcodes.applyReady(readyEvent(videoId, 1));
      return videoId;
    },
    async close() {
      // A page unmounted mid-request can leave its keep-alive socket half-used; do not wait for it.
      const closing = app.close();
      app.server.closeAllConnections();
      await closing;
      await tdb.dispose();
    },
  };
}
