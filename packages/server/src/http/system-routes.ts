import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { notReadyMessage, type ReadinessResult, readinessProbe, type Storage } from "@reelkit/core";
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
  /** The supervised embedded database: when it went down, while it is being restarted. */
  databaseState?: DatabaseState;
  /** How long `/readyz` reuses its last result (default 5 s): storage is written at most once per window. */
  readyCacheMs?: number;
  /** How long the embedded database may be down before `/healthz` fails (default 15 s). */
  healthGraceMs?: number;
}

export interface DatabaseState {
  /** ms since the epoch when the database went down; null while it runs. */
  readonly downSince: number | null;
}

const HEALTH_GRACE_MS = 15_000;

/** Where readiness writes its probe object (small, overwritten each time). */
const PROBE_KEY = "health/readyz";

const HealthBody = Type.Object({
  status: Type.Literal("ok"),
  database: Type.Optional(Type.Literal("restarting")),
});

const ReadyBody = Type.Object({
  status: Type.Literal("ok"),
  checks: Type.Record(Type.String(), Type.Literal("ok")),
});

/**
 * `/healthz`: the process is up and can recover by itself (liveness): 200, with
 * `database: "restarting"` while its embedded database is restarted after an unexpected exit;
 * 503 `DATABASE_UNAVAILABLE` once that has lasted longer than a short grace, so a service
 * manager may restart the process (which also exits by itself when the restarts fail).
 * `/readyz`: the process can do its work — the database answers a query, the bus answers and
 * storage accepts a write — so a load balancer may send traffic (readiness). 503 with the error
 * shape names the failing dependency. Its result is reused for a few seconds, so frequent probes
 * do not write to storage each time.
 */
export async function systemRoutes(app: FastifyInstance, opts: SystemRoutesOptions): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const downFor = () => {
    const since = opts.databaseState?.downSince ?? null;
    return since === null ? null : Date.now() - since;
  };

  r.get("/healthz", { schema: { response: { 200: HealthBody, 503: ErrorBody } } }, async (_request, reply) => {
    const down = downFor();
    if (down === null) return { status: "ok" as const };
    if (down <= (opts.healthGraceMs ?? HEALTH_GRACE_MS))
      return { status: "ok" as const, database: "restarting" as const };
    return reply
      .status(503)
      .send(
        errorBody(
          "DATABASE_UNAVAILABLE",
          `The embedded database has been down for ${Math.round(down / 1000)} s; it is being restarted`,
        ),
      );
  });

  const checks: Record<string, () => Promise<unknown>> = {
    storage: () => opts.storage.put(PROBE_KEY, "ok"),
  };
  const database = opts.database;
  if (database) checks.database = () => database.ping();
  const bus = opts.bus;
  if (bus) checks.bus = () => bus.ping();
  const cachedProbe = readinessProbe(checks, { cacheMs: opts.readyCacheMs });

  r.get("/readyz", { schema: { response: { 200: ReadyBody, 503: ErrorBody } } }, async (_request, reply) => {
    // A database known to be down is not probed (nor cached as up).
    const results: ReadinessResult[] =
      downFor() === null
        ? await cachedProbe()
        : [{ name: "database", error: "the embedded database is restarting after an unexpected exit" }];
    const notReady = notReadyMessage(results);
    if (notReady !== null) {
      app.log.warn({ failed: results.filter((c) => c.error !== null) }, "not ready");
      return reply.status(503).send(errorBody("NOT_READY", notReady));
    }
    return { status: "ok" as const, checks: Object.fromEntries(results.map((c) => [c.name, "ok" as const])) };
  });
}
