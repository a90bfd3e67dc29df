/**
 * CPU priorities (niceness) of the encodes. The server, its database, ffprobe and the steps around
 * the encodes (an upload's end, the queue, storing segments) run at the process's own priority;
 * every encode runs below them, in this order:
 *
 * 1. a playable phase whose video nobody can watch yet, at PLAYABLE_NICE, and lower for each
 *    other playable phase its owner already has running (`playableNice`);
 * 2. the rest of a playable phase once its video plays (PLAYING_NICE);
 * 3. ladders (LADDER_NICE).
 */

/** A playable phase until its video plays, when it is its owner's only one running here. */
export const PLAYABLE_NICE = 2;
/**
 * Niceness is at most this much lower for an owner's further playable phases: the lowest stays
 * above PLAYING_NICE, so every video not yet playable goes before the rest of one that plays.
 */
const MAX_OWNER_STEP = 9;
/** What is left of a playable phase once its video plays: it yields to every video not yet playable. */
export const PLAYING_NICE = PLAYABLE_NICE + MAX_OWNER_STEP + 1;
/** Ladders: below everything a viewer waits for. */
export const LADDER_NICE = 15;

/**
 * The niceness of a playable phase when its owner already has `running` others running in this
 * process. The kernel shares the CPU by weight, each nice level 1.25× less than the one above;
 * the owner's n-th phase gets about 1/n of the first one's weight (+3 for the second, +5 for the
 * third, …, capped). So a burst of eight from one owner weighs about 2.7 phases together, and a
 * single upload of another owner, at PLAYABLE_NICE, encodes at about a quarter of the machine
 * instead of a ninth. Niceness can only be raised (an unprivileged process cannot lower it), so a
 * phase keeps the priority it started with.
 */
export function playableNice(running: number): number {
  const step = Math.round(Math.log(Math.max(0, running) + 1) / Math.log(1.25));
  return PLAYABLE_NICE + Math.min(MAX_OWNER_STEP, step);
}
