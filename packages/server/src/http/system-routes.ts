import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { Storage } from "@reelkit/core";
import { ErrorBody } from "@reelkit/sdk/contract";
import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { errorBody } from "./errors.js";

export interface SystemRoutesOptions {
  storage: Storage;
  /** Answers when the catalog database answers; absent when the app runs without a catalog. */
  database?: { ping(): Promise<void> };
  /** Answers when the bus backend answers (the job queue's database, the Kafka brokers). */
  bus?: { ping(): Promise<void> };
}

/** Where readiness writes its probe object (small, overwritten each time). */
const PROBE_KEY = "health/readyz";
/** A check slower than this counts as failed: a load balancer should move on. */
const CHECK_TIMEOUT_MS = 3_000;

const ReadyBody = Type.Object({
  status: Type.Literal("ok"),
  checks: Type.Record(Type.String(), Type.Literal("ok")),
});

function withTimeout<T>(work: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} did not answer within ${CHECK_TIMEOUT_MS} ms`)),
      CHECK_TIMEOUT_MS,
    );
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/**
 * `/healthz`: the process is up (liveness). `/readyz`: the process can do its work — the
 * database answers a query, the bus answers and storage accepts a write — so a load balancer may send traffic
 * (readiness). 503 with the error shape names the failing dependency.
 */
export async function systemRoutes(app: FastifyInstance, opts: SystemRoutesOptions): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  r.get("/healthz", { schema: { response: { 200: Type.Object({ status: Type.Literal("ok") }) } } }, async () => ({
    status: "ok" as const,
  }));

  r.get("/readyz", { schema: { response: { 200: ReadyBody, 503: ErrorBody } } }, async (_request, reply) => {
    const checks: Record<string, () => Promise<unknown>> = {
      storage: () => opts.storage.put(PROBE_KEY, "ok"),
    };
    const database = opts.database;
    if (database) checks.database = () => database.ping();
    const bus = opts.bus;
    if (bus) checks.bus = () => bus.ping();
    const results = await Promise.all(
      Object.entries(checks).map(async ([name, check]) => {
        try {
          await withTimeout(check(), name);
          return { name, error: null };
        } catch (err) {
          return { name, error: err instanceof Error ? err.message : String(err) };
        }
      }),
    );
    const failed = results.filter((c) => c.error !== null);
    if (failed.length > 0) {
      app.log.warn({ failed }, "not ready");
      const message = failed.map((c) => `${c.name}: ${c.error}`).join("; ");
      return reply.status(503).send(errorBody("NOT_READY", `Not ready (${message})`));
    }
    return { status: "ok" as const, checks: Object.fromEntries(results.map((c) => [c.name, "ok" as const])) };
  });
}
