import { readdirSync, readFileSync } from "node:fs";

export interface ProcessEntry {
  pid: number;
  ppid: number;
  pgid: number;
  /** The kernel's command name (at most 15 characters). */
  comm: string;
}

/**
 * Every process on this machine, read from /proc (Linux) — no `ps` binary needed, so the suites
 * that check process groups also run with a PATH that holds nothing but node.
 */
export function processTable(): ProcessEntry[] {
  const entries: ProcessEntry[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, "utf8");
    } catch {
      continue; // exited while we looked
    }
    // "pid (comm) state ppid pgrp …": comm may hold spaces and parentheses, so split at the last ")".
    const close = stat.lastIndexOf(")");
    const comm = stat.slice(stat.indexOf("(") + 1, close);
    const [, ppid, pgid] = stat
      .slice(close + 2)
      .split(" ")
      .map(Number);
    entries.push({ pid: Number(name), ppid: ppid as number, pgid: pgid as number, comm });
  }
  return entries;
}
