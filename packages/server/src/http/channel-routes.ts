import { randomBytes } from "node:crypto";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { type Config, keys, type Storage } from "@reelkit/core";
import { Channel, ChannelParams, ErrorBody, UpdateChannelBody } from "@reelkit/sdk/contract";
import { resolveBinaries } from "@reelkit/transcoder";
import type { FastifyInstance } from "fastify";
import type { AuthService } from "../auth/auth-service.js";
import { AVATAR_MAX_BYTES, AvatarImages, InvalidImageError } from "../channels/avatar-images.js";
import { type ChannelRow, HandleTakenError } from "../channels/channel-directory.js";
import { errors } from "./errors.js";
import { mediaBaseUrl, toApiChannel } from "./video-mapper.js";

export interface ChannelRoutesOptions {
  config: Pick<Config, "publicUrl" | "storage" | "ffmpegPath" | "ffprobePath">;
  storage: Storage;
  auth: AuthService;
  /** Resizes avatars; ffmpeg's (resolved as the transcoder resolves it) when absent. */
  avatars?: Pick<AvatarImages, "resize">;
}

const AVATAR_TYPES = ["image/jpeg", "image/png", "image/webp", "image/gif"];

/**
 * `/api/channels`: every user is a channel (`/c/<handle>` on the demo site). Reading one is
 * public; its owner changes the name, description, handle and avatar through `me`.
 */
export async function channelRoutes(app: FastifyInstance, opts: ChannelRoutesOptions): Promise<void> {
  const { auth, storage, config } = opts;
  const channels = auth.channels;
  const mediaBase = mediaBaseUrl(config);
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  let avatars = opts.avatars;
  const resizer = () => {
    avatars ??= new AvatarImages(resolveBinaries(config).ffmpeg);
    return avatars;
  };
  const reply = (row: ChannelRow | null) => {
    if (!row) throw errors.unauthorized();
    return toApiChannel(row, mediaBase);
  };

  app.addHook("onRequest", async (_request, res) => {
    res.header("Cache-Control", "no-store");
  });
  // An avatar arrives as the image itself (the request body), at most AVATAR_MAX_BYTES.
  app.addContentTypeParser(AVATAR_TYPES, { parseAs: "buffer", bodyLimit: AVATAR_MAX_BYTES }, (_req, body, done) =>
    done(null, body),
  );

  r.get(
    "/api/channels/me",
    {
      schema: {
        summary: "The signed-in user's own channel",
        response: { 200: Channel, 401: ErrorBody, 403: ErrorBody },
      },
    },
    async (request) => {
      const user = await auth.requireUser(request);
      return reply(await channels.byId(user.userId));
    },
  );

  r.get(
    "/api/channels/:handle",
    {
      schema: {
        summary: "A channel by its handle (its videos: GET /api/videos?owner=<id>)",
        params: ChannelParams,
        response: { 200: Channel, 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (request, res) => {
      const row = await channels.byHandle(request.params.handle);
      if (!row) throw errors.channelNotFound(request.params.handle);
      res.header("Cache-Control", "public, max-age=5, stale-while-revalidate=30");
      return toApiChannel(row, mediaBase);
    },
  );

  r.patch(
    "/api/channels/me",
    {
      schema: {
        summary: "Change the signed-in user's channel name, description or handle",
        body: UpdateChannelBody,
        response: { 200: Channel, 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 409: ErrorBody },
      },
    },
    async (request) => {
      const user = await auth.requireUser(request);
      const { name, description, handle } = request.body;
      try {
        return reply(
          await channels.update(user.userId, {
            name: name?.trim(),
            description,
            handle: handle?.toLowerCase(),
          }),
        );
      } catch (err) {
        if (err instanceof HandleTakenError) throw errors.handleTaken(err.handle);
        throw err;
      }
    },
  );

  r.put(
    "/api/channels/me/avatar",
    {
      schema: {
        summary: `Set the avatar: the body is a JPEG, PNG, WebP or GIF image (at most ${AVATAR_MAX_BYTES} bytes), stored as a 256 px square`,
        consumes: AVATAR_TYPES,
        response: { 200: Channel, 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 413: ErrorBody, 415: ErrorBody },
      },
    },
    async (request) => {
      const user = await auth.requireUser(request);
      const type = String(request.headers["content-type"] ?? "")
        .split(";")[0]
        ?.trim()
        .toLowerCase();
      if (!type || !AVATAR_TYPES.includes(type)) {
        throw errors.unsupportedMediaType(`An avatar is sent as ${AVATAR_TYPES.join(", ")}`);
      }
      const body = request.body;
      if (!(body instanceof Buffer) || body.length === 0) throw errors.invalidImage("The request has no image");
      let image: Buffer;
      try {
        image = await resizer().resize(body);
      } catch (err) {
        if (err instanceof InvalidImageError) throw errors.invalidImage(err.message);
        throw err;
      }
      const key = keys.avatar(user.userId, randomBytes(8).toString("hex"));
      // Stored first, then named on the user: a failure in between leaves an unused file, never
      // a user pointing at a missing one.
      await storage.put(key, image, { contentType: "image/jpeg" });
      const changed = await channels.setAvatar(user.userId, key);
      if (!changed) {
        await storage.delete(key);
        throw errors.unauthorized();
      }
      if (changed.previousKey) await storage.delete(changed.previousKey);
      return toApiChannel(changed.row, mediaBase);
    },
  );

  r.delete(
    "/api/channels/me/avatar",
    {
      schema: {
        summary: "Remove the avatar",
        response: { 200: Channel, 401: ErrorBody, 403: ErrorBody },
      },
    },
    async (request) => {
      const user = await auth.requireUser(request);
      const changed = await channels.setAvatar(user.userId, null);
      if (!changed) throw errors.unauthorized();
      if (changed.previousKey) await storage.delete(changed.previousKey);
      return toApiChannel(changed.row, mediaBase);
    },
  );
}
