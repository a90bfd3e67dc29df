import { type ChildProcessByStdio, execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import type { Readable, Writable } from "node:stream";

/**
 * The watchdog every ffmpeg/ffprobe runs under: a POSIX shell that leads a process group of its
 * own (so a Ctrl-C or a SIGTERM sent to the worker's group never reaches the encoder), starts
 * the command in that group and waits for it. A background reader holds the pipe the worker
 * keeps open on the shell's stdin; when the worker dies for any reason, even SIGKILL, the
 * kernel closes that pipe, the read ends and the whole group is killed. ffmpeg itself reads
 * nothing (stdin from /dev/null). The exit status of the command is passed through.
 */
const WATCHDOG = [
  "exec 3<&0 0</dev/null",
  '"$@" &',
  "child=$!",
  "(read -r _ <&3; kill -KILL 0) &",
  "guard=$!",
  "exec 3<&-",
  'wait "$child"',
  "status=$?",
  'kill "$guard" 2>/dev/null',
  'exit "$status"',
].join("\n");

export type ContainedChild = ChildProcessByStdio<Writable, Readable, Readable>;

/**
 * Spawns `command` in its own process group, tied to the life of this process; with `nice`, at
 * that lower CPU priority (background work that must not slow what viewers wait for).
 */
export function spawnContained(command: string, args: readonly string[], nice = 0): ContainedChild {
  const niceBin = nice > 0 ? niceCommand() : null;
  const argv = niceBin ? [niceBin, "-n", String(nice), command, ...args] : [command, ...args];
  const child = spawn("/bin/sh", ["-c", WATCHDOG, "reelkit-watchdog", ...argv], {
    stdio: ["pipe", "pipe", "pipe"],
    detached: true,
  });
  if (nice > 0 && child.pid) void setSessionNice(child.pid, nice);
  return child;
}

/** Autogroup writes wait for each other: an unprivileged process may make one per 100 ms. */
let autogroupWrites: Promise<void> = Promise.resolve();

/**
 * Sets the CPU priority of the session led by `pid` (a contained group: `detached` makes each a
 * session of its own). Linux's autogroup scheduling (on in most distributions' kernels, for
 * processes outside a cgroup with a CPU controller, as a server started from a shell or a VM's
 * init is) shares the CPU between sessions first, and a nice value only counts within its
 * session: without this, an encode at nice 15 took as much CPU as one at nice 0 (four busy
 * loops at nice 15 and one at 0, each in a session of its own, got 40% of a core each; with
 * their sessions' priority set, the one at 0 got a full core). Best effort: without
 * `/proc/<pid>/autogroup` the process's own nice value is all there is, and it counts.
 */
function setSessionNice(pid: number, nice: number): Promise<void> {
  const write = async () => {
    for (let attempt = 0; attempt < 30; attempt++) {
      try {
        await writeFile(`/proc/${pid}/autogroup`, String(nice));
        return;
      } catch (err) {
        // EAGAIN: another autogroup change within the last 100 ms (unprivileged); else none to set.
        if ((err as NodeJS.ErrnoException).code !== "EAGAIN") return;
        await new Promise((r) => setTimeout(r, 110));
      }
    }
  };
  const done = autogroupWrites.then(write);
  autogroupWrites = done;
  return done;
}

/** A system command from PATH or its usual places (a PATH may hold only the runtime, as in a minimal container). */
function systemCommand(name: string): string | null {
  const dirs = [...(process.env.PATH ?? "").split(path.delimiter).filter(Boolean), "/usr/bin", "/bin"];
  return dirs.map((d) => path.join(d, name)).find((f) => existsSync(f)) ?? null;
}

/**
 * coreutils' `nice`; null when the system has none: the work then runs at normal priority
 * rather than not at all.
 */
export function niceCommand(): string | null {
  return systemCommand("nice");
}

/**
 * Lowers the CPU priority of a running contained group (`renice -g`; the group id is the
 * watchdog's pid, which also leads its session) to `nice`, its session's too. Best effort and not
 * awaited: without `renice` (util-linux) the group's processes keep theirs. Resolves once done, for tests.
 */
export function reniceGroup(pgid: number, nice: number): Promise<void> {
  const bin = systemCommand("renice");
  const processes = bin
    ? new Promise<void>((resolve) => execFile(bin, ["-n", String(nice), "-g", String(pgid)], () => resolve()))
    : Promise.resolve();
  return Promise.all([processes, setSessionNice(pgid, nice)]).then(() => undefined);
}

/** Stops the whole group: SIGTERM (ffmpeg ends its files), then SIGKILL when it lingers. */
export function stopGroup(child: ContainedChild, graceMs = 3_000): void {
  const kill = (signal: NodeJS.Signals) => {
    try {
      if (child.pid) process.kill(-child.pid, signal);
    } catch {
      // the group is gone already
    }
  };
  kill("SIGTERM");
  const timer = setTimeout(() => kill("SIGKILL"), graceMs);
  timer.unref();
  child.once("close", () => clearTimeout(timer));
}

/**
 * True when the command did not exit by itself but was ended by a signal: the shell reports a
 * signalled command as 128+N, and ffmpeg exits with 255 after a SIGTERM/SIGINT it handled.
 * Such a run says nothing about the input and is retried, never reported as undecodable.
 */
export function endedBySignal(code: number | null, signal: NodeJS.Signals | null): boolean {
  return signal !== null || (code !== null && code >= 128);
}
