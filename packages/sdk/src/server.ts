/**
 * `@reelkit/sdk/server`: what a site's backend does with its API key (Node only, never in a
 * page: the key acts for its user). Mint an upload token per browser upload, manage the videos
 * the key's user owns.
 *
 *     import { createReelkitServer } from "@reelkit/sdk/server";
 *     const reelkit = createReelkitServer({ baseUrl: "https://video.example.com", apiKey: process.env.REELKIT_API_KEY });
 *     const { token } = await reelkit.createUploadToken({ visibility: "UNLISTED", passthrough: "user-42" });
 */
import { createReelkitClient, type ListOptions, type RequestOptions } from "./client.js";
import type {
  CreatedWebhookEndpoint,
  CreateUploadTokenBody,
  CreateWebhookBody,
  UpdateVideoBody,
  UploadToken,
  Video,
  VideoList,
} from "./contract.js";
import { ReelkitApiError } from "./errors.js";

// Standard Webhooks signatures of the events Reelkit POSTs to the site (see docs/webhooks.md).
export {
  type VerifiedWebhook,
  type VerifyOptions,
  verifyWebhook,
  type WebhookHeaders,
  WebhookVerificationError,
} from "./webhooks.js";

export type {
  CreatedWebhookEndpoint,
  CreateUploadTokenBody,
  CreateWebhookBody,
  UpdateVideoBody,
  UploadToken,
  Video,
  VideoList,
};
export { ReelkitApiError };

export interface ReelkitServerOptions {
  /** The Reelkit server's origin, e.g. "https://video.example.com". */
  baseUrl: string;
  /** An API key (`rk_…`) from the Developer page, `reelkit keys create` or `POST /api/api-keys`. */
  apiKey: string;
  /** A fetch implementation; the global one by default. */
  fetch?: typeof fetch;
}

export interface ReelkitServer {
  /**
   * One upload token for one browser upload: hand `token` (or the whole result) to the page,
   * whose `<Uploader getToken>` or `uploadVideo({ getToken })` uses it. Every field is optional.
   */
  createUploadToken(settings?: CreateUploadTokenBody, options?: RequestOptions): Promise<UploadToken>;
  /**
   * Registers a webhook endpoint of the key's user; the result's `secret` (`whsec_…`, for
   * `verifyWebhook`) is shown this once: keep it.
   */
  createWebhook(body: CreateWebhookBody, options?: RequestOptions): Promise<CreatedWebhookEndpoint>;
  /** Videos of the key's user, any status and visibility (`mine`), newest first unless sorted. */
  listVideos(query?: Omit<ListOptions, "mine">, options?: RequestOptions): Promise<VideoList>;
  getVideo(id: string, options?: RequestOptions): Promise<Video>;
  updateVideo(id: string, patch: UpdateVideoBody, options?: RequestOptions): Promise<Video>;
  deleteVideo(id: string, options?: RequestOptions): Promise<void>;
}

export function createReelkitServer(options: ReelkitServerOptions): ReelkitServer {
  if (!options.apiKey?.startsWith("rk_")) throw new TypeError("createReelkitServer: apiKey must be an API key (rk_…)");
  const client = createReelkitClient({
    baseUrl: options.baseUrl,
    getToken: () => options.apiKey,
    fetch: options.fetch,
  });
  const post = async <T>(path: string, body: unknown, opts: RequestOptions): Promise<T> => {
    const response = await client.fetch(client.url(path), {
      method: "POST",
      headers: { ...(await client.authHeaders()), "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify(body),
      signal: opts.signal,
    });
    const text = await response.text();
    if (!response.ok) throw apiError(response, text);
    return JSON.parse(text) as T;
  };
  return {
    createUploadToken: (settings = {}, opts = {}) => post<UploadToken>("/api/upload-tokens", settings, opts),
    createWebhook: (body, opts = {}) => post<CreatedWebhookEndpoint>("/api/webhooks", body, opts),
    listVideos: (query = {}, opts) => client.list({ ...query, mine: "1" }, opts),
    getVideo: (id, opts) => client.get(id, opts),
    updateVideo: (id, patch, opts) => client.update(id, patch, opts),
    deleteVideo: (id, opts) => client.delete(id, opts),
  };
}

function apiError(response: Response, text: string): ReelkitApiError {
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
    if (typeof body.error?.code === "string") {
      return new ReelkitApiError({
        status: response.status,
        code: body.error.code,
        message: typeof body.error.message === "string" ? body.error.message : response.statusText,
      });
    }
  } catch {
    // not JSON
  }
  return new ReelkitApiError({ status: response.status, code: "HTTP_ERROR", message: `HTTP ${response.status}` });
}
