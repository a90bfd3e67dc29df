/**
 * When the embedded database dies under a running server (the OOM killer, a stray `kill -9`),
 * the server starts it again (PostgreSQL recovers from its WAL) after a growing delay, and gives
 * up once it cannot keep it up: the process then exits non-zero so that its service manager
 * (systemd, Docker, Kubernetes) restarts the whole process.
 */
export interface RestartPolicy {
  /** Delay before the first restart of an outage; doubled for each further one. */
  firstDelayMs: number;
  /** Longest delay between two restarts. */
  maxDelayMs: number;
  /** Restarts tried in one outage before giving up. */
  maxAttempts: number;
  /** An outage longer than this (from the first exit) is given up, whatever the attempts left. */
  budgetMs: number;
  /**
   * A database that stayed up this long after a restart ends its outage: a later exit starts a
   * new one with a fresh count. One that keeps dying sooner stays in the same outage, so a crash
   * loop ends in an exit rather than restarting forever.
   */
  stableMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = {
  firstDelayMs: 250,
  maxDelayMs: 5_000,
  maxAttempts: 10,
  budgetMs: 60_000,
  stableMs: 30_000,
};

export interface OutageState {
  /** Restarts already tried in this outage (successful ones included). */
  attempts: number;
  /** Time since the first exit of this outage. */
  elapsedMs: number;
}

export type RestartDecision = { action: "restart"; delayMs: number } | { action: "give-up"; reason: string };

/** What to do after the database exited (or a restart failed): restart after a delay, or give up. */
export function nextRestart(state: OutageState, policy: RestartPolicy = DEFAULT_RESTART_POLICY): RestartDecision {
  if (state.attempts >= policy.maxAttempts) {
    return { action: "give-up", reason: `the database did not stay up after ${state.attempts} restarts` };
  }
  const delayMs = Math.min(policy.maxDelayMs, policy.firstDelayMs * 2 ** state.attempts);
  if (state.elapsedMs + delayMs > policy.budgetMs) {
    return {
      action: "give-up",
      reason: `the database has been down for ${Math.round(state.elapsedMs / 1000)} s (limit ${Math.round(policy.budgetMs / 1000)} s)`,
    };
  }
  return { action: "restart", delayMs };
}
