import type { VideoReadQuery } from "@reelkit/sdk/contract";
import type { FastifyRequest } from "fastify";
import { AuthService } from "../auth/auth-service.js";
import type { Catalog } from "../catalog/catalog.js";
import type { Video } from "../generated/prisma/client.js";
import { errors } from "./errors.js";

/** Who may read and who may change a video, for every route that takes a video id. */
export interface VideoAccess {
  /**
   * The video if the caller may see it: PRIVATE ones only for their owner or an admin, or with
   * a valid embed token of that video in `?token=` (else 404).
   */
  viewable(request: FastifyRequest, id: string): Promise<Video>;
  /** The video, if the signed-in caller may change it: its owner or an admin (else 401/403/404). */
  editable(request: FastifyRequest, id: string): Promise<Video>;
}

export function videoAccess(catalog: Pick<Catalog, "queries">, auth: AuthService): VideoAccess {
  return {
    async viewable(request, id) {
      const video = await catalog.queries.get(id);
      if (!video) throw errors.videoNotFound(id);
      const { token } = (request.query ?? {}) as VideoReadQuery;
      if (video.visibility === "PRIVATE" && token && auth.embedSigner.verify(video.id, token) === "ok") return video;
      if (!AuthService.canView(await auth.principal(request), video)) throw errors.videoNotFound(id);
      return video;
    },
    async editable(request, id) {
      const user = await auth.requireUser(request);
      const video = await catalog.queries.get(id);
      if (!video) throw errors.videoNotFound(id);
      if (!user.isAdmin && video.ownerId !== user.userId) {
        throw errors.forbidden("Only the video's owner or an admin can change it");
      }
      return video;
    },
  };
}
