/** One readiness check's outcome: `error` is null when the dependency answered in time. */
export interface ReadinessResult {
  name: string;
  error: string | null;
}

export interface ReadinessOptions {
  /** How long a result is reused (default 5 s): a probe that writes to storage writes at most once per window. */
  cacheMs?: number;
  /** A check slower than this counts as failed (default 3 s): a load balancer should move on. */
  timeoutMs?: number;
}

const READY_CACHE_MS = 5_000;
const CHECK_TIMEOUT_MS = 3_000;

/**
 * The readiness probe of a process (`/readyz` of the server and of the transcoder): runs every
 * check at once, each bounded by a timeout. Probes within the cache window, and concurrent ones,
 * share one run of the checks.
 */
export function readinessProbe(
  checks: Record<string, () => Promise<unknown>>,
  options: ReadinessOptions = {},
): () => Promise<ReadinessResult[]> {
  const cacheMs = options.cacheMs ?? READY_CACHE_MS;
  const timeoutMs = options.timeoutMs ?? CHECK_TIMEOUT_MS;
  const run = (): Promise<ReadinessResult[]> =>
    Promise.all(
      Object.entries(checks).map(async ([name, check]) => {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`did not answer within ${timeoutMs} ms`)), timeoutMs);
        });
        try {
          await Promise.race([check(), timeout]);
          return { name, error: null };
        } catch (err) {
          return { name, error: err instanceof Error ? err.message : String(err) };
        } finally {
          clearTimeout(timer);
        }
      }),
    );
  let last: { at: number; results: Promise<ReadinessResult[]> } | null = null;
  return () => {
    const now = Date.now();
    if (!last || now - last.at >= cacheMs) last = { at: now, results: run() };
    return last.results;
  };
}

/** `Not ready (storage: …; bus: …)` naming every failed check, or null when all passed. */
export function notReadyMessage(results: readonly ReadinessResult[]): string | null {
  const failed = results.filter((r) => r.error !== null);
  return failed.length === 0 ? null : `Not ready (${failed.map((r) => `${r.name}: ${r.error}`).join("; ")})`;
}
