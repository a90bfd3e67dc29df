import AjvCompiler from "@fastify/ajv-compiler";
import type { FastifyServerOptions } from "fastify";

type BuildValidator = NonNullable<
  NonNullable<FastifyServerOptions["schemaController"]>["compilersFactory"]
>["buildValidator"];
type ExternalSchemas = Parameters<ReturnType<typeof AjvCompiler>>[0];
/** What Fastify passes to the compiler for each part of each route. */
type RouteDefinition = { httpPart: string; method: string; url: string; schema?: unknown };

/**
 * Fastify's validator factory with two Ajv instances: querystrings, path parameters and headers
 * are text, so their numbers and booleans are coerced; a JSON body already has types, and
 * `{"title": 5}` is a client error, not the title "5". Validation errors reach the root error
 * handler as `err.validation`.
 */
export const buildValidator = ((externalSchemas: ExternalSchemas) => {
  const build = (coerceTypes: boolean) =>
    AjvCompiler()(externalSchemas, {
      customOptions: { removeAdditional: false, coerceTypes, useDefaults: true },
    }) as unknown as (route: RouteDefinition) => unknown;
  const coercing = build(true);
  const strict = build(false);
  return (route: RouteDefinition) => (route.httpPart === "body" ? strict : coercing)(route);
}) as unknown as BuildValidator;
