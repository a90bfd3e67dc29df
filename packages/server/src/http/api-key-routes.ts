import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { Config } from "@reelkit/core";
import {
  ApiKey,
  ApiKeyList,
  CreateApiKeyBody,
  CreatedApiKey,
  CreateUploadTokenBody,
  ErrorBody,
  UPLOADS_PATH,
  UpdateApiKeyBody,
  UploadToken,
  VideoParams,
} from "@reelkit/sdk/contract";
import { Type } from "@sinclair/typebox";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { type ApiKeyInfo, type ApiKeyService, UPLOAD_TOKENS_PATH, type UploadTokenVideo } from "../auth/api-keys.js";
import type { AuthService } from "../auth/auth-service.js";
import { errors } from "./errors.js";

export interface ApiKeyRoutesOptions {
  config: Pick<Config, "maxUploadSize" | "baseUrl">;
  auth: AuthService;
  apiKeys: ApiKeyService;
}

const DEFAULT_TOKEN_SECONDS = 3600;

function toApiKey(k: ApiKeyInfo): ApiKey {
  return {
    id: k.id,
    name: k.name,
    prefix: k.prefix,
    createdAt: k.createdAt.toISOString(),
    lastUsedAt: k.lastUsedAt?.toISOString() ?? null,
    revokedAt: k.revokedAt?.toISOString() ?? null,
    scope: k.scope,
    maxUnfinishedUploads: k.maxUnfinishedUploads,
    uploadsPerMinute: k.uploadsPerMinute,
  };
}

/** Tags as the catalog stores them: trimmed, lower-case, no empties, no duplicates. */
function normalizeTags(tags: string[]): string[] {
  return [...new Set(tags.map((t) => t.trim().toLowerCase()).filter((t) => t.length > 0))];
}

/**
 * `/api/api-keys` (a signed-in user's keys: create, list, revoke) and `/api/upload-tokens`
 * (a third-party backend, authenticated by its API key, mints a token for one browser upload).
 */
export async function apiKeyRoutes(app: FastifyInstance, opts: ApiKeyRoutesOptions): Promise<void> {
  const { auth, apiKeys, config } = opts;
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  app.addHook("onRequest", async (_request, reply) => {
    reply.header("Cache-Control", "no-store");
  });

  /**
   * A key outlives everything that could mint it, so creating one takes a session (its cookie,
   * or its token as a bearer): not a 15-minute JWT, not another key, not an upload token.
   * Listing and revoking also take a JWT, which acts for its session while it lives (revoking
   * only takes access away); never a key, so a leaked key cannot list or revoke its owner's keys.
   */
  const requireKeyManager = async (request: FastifyRequest, action: "create" | "manage") => {
    const caller = await auth.require(request);
    if (caller.kind === "user" && (caller.via === "cookie" || caller.via === "bearer")) return caller;
    if (caller.kind === "user" && caller.via === "jwt" && action === "manage") return caller;
    throw errors.sessionRequired(
      action === "create"
        ? "Creating an API key needs a signed-in session (its cookie or session token), not a JWT, an API key or an upload token"
        : "API keys are managed with a signed-in session or its JWT, not with an API key or an upload token",
    );
  };

  r.post(
    "/api/api-keys",
    {
      schema: {
        summary: "Create an API key for the signed-in user; the key is in this response only",
        body: CreateApiKeyBody,
        response: { 201: CreatedApiKey, 400: ErrorBody, 401: ErrorBody, 403: ErrorBody },
      },
    },
    async (request, reply) => {
      const user = await requireKeyManager(request, "create");
      const { name, ...settings } = request.body;
      const { key, info } = await apiKeys.create(user.userId, name, settings);
      return reply.status(201).send({ ...toApiKey(info), key });
    },
  );

  r.get(
    "/api/api-keys",
    {
      schema: {
        summary: "The signed-in user's API keys (never the keys themselves), newest first",
        response: { 200: ApiKeyList, 401: ErrorBody, 403: ErrorBody },
      },
    },
    async (request) => {
      const user = await requireKeyManager(request, "manage");
      return { items: (await apiKeys.list(user.userId)).map(toApiKey) };
    },
  );

  r.patch(
    "/api/api-keys/:id",
    {
      schema: {
        summary: "Rename one of the signed-in user's API keys or change its upload limits (null: the server's)",
        params: VideoParams,
        body: UpdateApiKeyBody,
        response: { 200: ApiKey, 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody },
      },
    },
    async (request) => {
      const user = await requireKeyManager(request, "manage");
      const updated = await apiKeys.update(user.userId, request.params.id, request.body);
      if (!updated) throw errors.notFound("No such API key");
      return toApiKey(updated);
    },
  );

  r.delete(
    "/api/api-keys/:id",
    {
      schema: {
        summary: "Revoke one of the signed-in user's API keys (its upload tokens stop working too)",
        params: VideoParams,
        response: { 204: Type.Null(), 401: ErrorBody, 403: ErrorBody, 404: ErrorBody },
      },
    },
    async (request, reply) => {
      const user = await requireKeyManager(request, "manage");
      if (!(await apiKeys.revoke(user.userId, request.params.id))) throw errors.notFound("No such API key");
      return reply.status(204).send(null);
    },
  );

  r.post(
    UPLOAD_TOKENS_PATH,
    {
      schema: {
        summary:
          "Mint an upload token (API key only): one tus upload by a browser, with the video's settings, a size cap, content types and an expiry",
        body: CreateUploadTokenBody,
        response: { 201: UploadToken, 400: ErrorBody, 401: ErrorBody, 403: ErrorBody },
      },
      // Every field is optional: no body at all is a token with the defaults.
      preValidation: async (request) => {
        if (request.body === undefined || request.body === null) request.body = {};
      },
    },
    async (request, reply) => {
      const caller = await auth.require(request);
      if (caller.kind !== "user" || caller.via !== "api-key" || !caller.apiKeyId) {
        throw errors.forbidden("Upload tokens are minted with an API key (Authorization: Bearer rk_…)");
      }
      const body = request.body;
      const owner = body.owner ?? caller.userId;
      if (owner !== caller.userId) {
        if (!caller.isAdmin) throw errors.forbidden("Only an admin's API key mints upload tokens for another user");
        if (!(await apiKeys.userExists(owner))) throw errors.validation(`owner: no user ${owner}`);
      }
      if (body.maxSize !== undefined && body.maxSize > config.maxUploadSize) {
        throw errors.validation(`maxSize: at most ${config.maxUploadSize} bytes (REELKIT_MAX_UPLOAD_SIZE)`);
      }
      const maxSize = body.maxSize ?? config.maxUploadSize;
      const expiresAt = new Date(Date.now() + (body.expiresIn ?? DEFAULT_TOKEN_SECONDS) * 1000);
      const video: UploadTokenVideo = {
        title: body.title ?? null,
        description: body.description ?? null,
        visibility: body.visibility ?? "UNLISTED",
        tags: normalizeTags(body.tags ?? []),
        contentTypes: [...new Set((body.contentTypes ?? []).map((t) => t.toLowerCase()))],
        passthrough: body.passthrough ?? null,
      };
      const { token } = await apiKeys.mintUploadToken({
        apiKeyId: caller.apiKeyId,
        ownerId: owner,
        maxSize,
        expiresAt,
        ...video,
      });
      return reply.status(201).send({
        token,
        owner,
        maxSize,
        expiresAt: expiresAt.toISOString(),
        ...video,
        tags: [...video.tags],
        contentTypes: [...video.contentTypes],
        // Absolute: the backend hands it to a browser on another origin.
        uploadUrl: `${config.baseUrl ?? `${request.protocol}://${request.host}`}${UPLOADS_PATH}`,
      });
    },
  );
}
