import { randomUUID } from "node:crypto";
import os from "node:os";

/** `<host>:<pid>:<random>`: who holds a lease or a claim, unique per instance. */
export function newOwnerId(): string {
  return `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
}

/** True while a process with this pid exists (EPERM: it does, owned by another user). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: alive, owned by someone else.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * True for an owner id of a process on this host that no longer exists (killed, crashed): its
 * leases and claims can be taken back at once instead of after their timeout.
 */
export function isDeadLocalOwner(owner: string): boolean {
  const prefix = `${os.hostname()}:`;
  if (!owner.startsWith(prefix)) return false;
  const pid = Number(owner.slice(prefix.length).split(":")[0]);
  return Number.isInteger(pid) && pid > 0 && pid !== process.pid && !isProcessAlive(pid);
}
