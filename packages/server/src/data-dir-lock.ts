import { readFileSync } from "node:fs";
import { mkdir, open, readFile, rmdir, stat, unlink } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { isProcessAlive } from "@reelkit/core";

/**
 * One process per data directory: two servers on the same `REELKIT_DATA_DIR` would each run a
 * database on the same files and lose each other's rows. The lock is a file naming its holder's
 * pid; a lock whose holder is gone (crash, SIGKILL, power cut) is taken over at the next start.
 */
export interface DataDirLock {
  readonly file: string;
  /** Removes the lock file (if it is still this process's). */
  release(): Promise<void>;
}

export class DataDirLockedError extends Error {
  constructor(
    readonly dataDir: string,
    readonly holderPid: number,
  ) {
    super(
      `REELKIT_DATA_DIR ${dataDir} is in use by another Reelkit process (pid ${holderPid}); ` +
        "stop that process first, or give this one another REELKIT_DATA_DIR",
    );
    this.name = "DataDirLockedError";
  }
}

interface Holder {
  pid: number;
  /** Linux: the process's start time in clock ticks since boot, so a reused pid is not mistaken for the holder. */
  startTime: string | null;
}

const LOCK_NAME = "reelkit.lock";

function startTimeOf(pid: number): string | null {
  if (process.platform !== "linux") return null;
  try {
    // Field 22; the command name (field 2) may hold spaces, the fields after ") " do not.
    return readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ")[19] ?? null;
  } catch {
    return null;
  }
}

function isAlive(holder: Holder): boolean {
  if (holder.pid === process.pid) return false; // a previous life of this pid (e.g. pid 1 in a restarted container)
  if (!isProcessAlive(holder.pid)) return false;
  if (holder.startTime === null) return true;
  const now = startTimeOf(holder.pid);
  return now === null || now === holder.startTime;
}

async function readHolder(file: string): Promise<Holder | null | "gone"> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return "gone";
    throw err;
  }
  try {
    const parsed = JSON.parse(text) as Holder;
    return typeof parsed.pid === "number" ? parsed : null;
  } catch {
    return null; // being written right now, or torn by a crash
  }
}

/** Serialises stale-lock take-overs, so two starting processes cannot both replace the same lock. */
async function withTakeoverGuard(file: string, fn: () => Promise<void>): Promise<void> {
  const guard = `${file}.takeover`;
  for (;;) {
    try {
      await mkdir(guard);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      // A guard left by a process that died within the few milliseconds it is held.
      const age = await stat(guard).then(
        (s) => Date.now() - s.mtimeMs,
        () => 0,
      );
      if (age > 10_000) await rmdir(guard).catch(() => {});
      else await sleep(20);
    }
  }
  try {
    await fn();
  } finally {
    await rmdir(guard).catch(() => {});
  }
}

export async function lockDataDir(dataDir: string): Promise<DataDirLock> {
  const dir = path.resolve(dataDir);
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, LOCK_NAME);
  const mine: Holder = { pid: process.pid, startTime: startTimeOf(process.pid) };
  let unreadable = 0;
  for (;;) {
    try {
      const handle = await open(file, "wx");
      try {
        await handle.writeFile(`${JSON.stringify(mine)}\n`);
        await handle.sync();
      } finally {
        await handle.close();
      }
      return {
        file,
        async release() {
          const holder = await readHolder(file);
          if (holder !== "gone" && holder?.pid === mine.pid && holder.startTime === mine.startTime) {
            await unlink(file).catch(() => {});
          }
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    const holder = await readHolder(file);
    if (holder === "gone") continue;
    // Unparseable for a moment: its writer is between open and write. For long: torn by a crash.
    if (holder === null && ++unreadable < 25) {
      await sleep(20);
      continue;
    }
    if (holder !== null && isAlive(holder)) throw new DataDirLockedError(dir, holder.pid);
    await withTakeoverGuard(file, async () => {
      const again = await readHolder(file);
      const same = again === null ? holder === null : again !== "gone" && holder !== null && again.pid === holder.pid;
      if (same) await unlink(file).catch(() => {});
    });
    unreadable = 0;
  }
}
