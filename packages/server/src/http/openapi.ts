import swagger from "@fastify/swagger";
import type { FastifyInstance } from "fastify";
import pkg from "../../package.json" with { type: "json" };

export const OPENAPI_PATH = "/api/openapi.json";

/**
 * The OpenAPI 3 document, generated from the route schemas (the same TypeBox schemas that
 * validate requests and that the SDK takes its types from). Must be called before any route is
 * registered: @fastify/swagger collects routes as they are added.
 */
export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: "3.0.3",
      info: {
        title: "Reelkit API",
        version: pkg.version,
        description:
          "Resumable uploads (tus 1.0 at /api/uploads), the video catalog, status events and media delivery.",
      },
    },
    // Shared contract schemas keep their names (`Video`, `ErrorBody`) as components.
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === "string" ? json.$id : `def-${i}`),
    },
  });
  app.get(OPENAPI_PATH, async () => app.swagger());
}
