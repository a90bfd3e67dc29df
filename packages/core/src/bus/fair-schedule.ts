/**
 * The order in which waiting jobs are handed out: pure planning, no I/O, shared by every job
 * store. Two rules, in this order:
 *
 * 1. Phases. Topics are listed in phase order (e.g. a video's playable phase before its ladder
 *    phase): every waiting job of an earlier phase goes before any job of a later one, and no job
 *    of a later phase starts while one of an earlier phase waits.
 * 2. Fair shares. Within a phase, owners (uploaders, API keys) take turns in proportion to their
 *    share: the k-th waiting job of an owner who already runs r jobs gets the virtual start
 *    (r + k) / share, and jobs go in ascending virtual start; on a tie, the owner with the shorter
 *    backlog (waiting jobs per share) first, then the older job. A burst of 50 from one owner
 *    therefore never delays another owner's single job by more than what already runs.
 *
 * The plan has no memory of finished jobs: shares hold among what waits and runs now, which is
 * what decides who waits while the machines are busy.
 */

export interface SchedulePolicy {
  /** Topics in phase order; a topic not listed comes after every listed one. */
  phases: readonly string[];
  /** Weight of an owner's turn (default 1): an owner with share 2 gets two jobs per turn of a share-1 owner. */
  shares?: Readonly<Record<string, number>>;
}

export interface WaitingJob {
  id: string;
  topic: string;
  /** Who the job is for; jobs without one share a single anonymous owner. */
  owner: string;
  /** Arrival order (smaller is older). */
  seq: number;
}

export interface RunningJob {
  topic: string;
  owner: string;
}

function phaseOf(policy: SchedulePolicy, topic: string): number {
  const i = policy.phases.indexOf(topic);
  return i === -1 ? policy.phases.length : i;
}

function shareOf(policy: SchedulePolicy, owner: string): number {
  const s = policy.shares?.[owner];
  return s !== undefined && s > 0 ? s : 1;
}

/** Every waiting job in the order it will be handed out (rule 1, then rule 2). */
export function scheduleOrder(input: {
  waiting: readonly WaitingJob[];
  running: readonly RunningJob[];
  policy: SchedulePolicy;
}): WaitingJob[] {
  const { policy } = input;
  const runningPerOwnerPhase = new Map<string, number>();
  const slot = (phase: number, owner: string) => `${phase}\u0000${owner}`;
  for (const r of input.running) {
    const k = slot(phaseOf(policy, r.topic), r.owner);
    runningPerOwnerPhase.set(k, (runningPerOwnerPhase.get(k) ?? 0) + 1);
  }
  const byArrival = [...input.waiting].sort((a, b) => a.seq - b.seq);
  const queuedSoFar = new Map<string, number>();
  const tagged = byArrival.map((job) => {
    const phase = phaseOf(policy, job.topic);
    const k = slot(phase, job.owner);
    const before = (runningPerOwnerPhase.get(k) ?? 0) + (queuedSoFar.get(k) ?? 0);
    queuedSoFar.set(k, (queuedSoFar.get(k) ?? 0) + 1);
    return { job, k, phase, start: before / shareOf(policy, job.owner) };
  });
  const backlog = (t: (typeof tagged)[number]) => (queuedSoFar.get(t.k) ?? 0) / shareOf(policy, t.job.owner);
  tagged.sort((a, b) => a.phase - b.phase || a.start - b.start || backlog(a) - backlog(b) || a.job.seq - b.job.seq);
  return tagged.map((t) => t.job);
}

/**
 * The jobs one consumer claims now: in schedule order, at most `limit`, at most `free[topic]`
 * of each topic that has a cap (its free slots), and none of a later phase while a job of an
 * earlier phase is left waiting. The last `reserve[topic]` free slots of a topic go only to
 * owners running none of its jobs: a newcomer finds a slot at once, however many jobs another
 * owner has queued.
 */
export function planClaims(input: {
  waiting: readonly WaitingJob[];
  running: readonly RunningJob[];
  policy: SchedulePolicy;
  limit: number;
  free?: Readonly<Record<string, number>>;
  reserve?: Readonly<Record<string, number>>;
}): WaitingJob[] {
  const order = scheduleOrder(input);
  const free = { ...input.free };
  const runs = new Map<string, number>();
  const slot = (topic: string, owner: string) => `${topic}\u0000${owner}`;
  for (const r of input.running) runs.set(slot(r.topic, r.owner), (runs.get(slot(r.topic, r.owner)) ?? 0) + 1);
  const out: WaitingJob[] = [];
  let blockedPhase = Number.POSITIVE_INFINITY;
  for (const job of order) {
    if (out.length >= input.limit) break;
    const phase = phaseOf(input.policy, job.topic);
    if (phase > blockedPhase) break;
    const cap = free[job.topic];
    const k = slot(job.topic, job.owner);
    const reserved = cap !== undefined && cap <= (input.reserve?.[job.topic] ?? 0) && (runs.get(k) ?? 0) > 0;
    if ((cap !== undefined && cap <= 0) || reserved) {
      blockedPhase = Math.min(blockedPhase, phase);
      continue;
    }
    if (cap !== undefined) free[job.topic] = cap - 1;
    runs.set(k, (runs.get(k) ?? 0) + 1);
    out.push(job);
  }
  return out;
}

/** 1-based place of each waiting job in the schedule (what a progress display shows). */
export function queuePositions(input: {
  waiting: readonly WaitingJob[];
  running: readonly RunningJob[];
  policy: SchedulePolicy;
}): Map<string, number> {
  return new Map(scheduleOrder(input).map((job, i) => [job.id, i + 1]));
}
