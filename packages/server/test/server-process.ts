import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { processTable } from "../../../test/process-table.js";

/** Repository root (the server's working directory in tests and benchmarks). */
export const REPO_ROOT = path.resolve(import.meta.dirname, "../../..");

export interface ServerProcessOptions {
  /** Environment on top of the parent's (REELKIT_DATA_DIR, PORT, DATABASE_URL, ...). */
  env: Record<string, string>;
  /**
   * `source` runs `packages/server/src/bin.ts` through tsx (no build needed); `built` runs
   * `packages/server/dist/bin.js`; `npm-start` runs `scripts/start.mjs`, exactly what `npm start`
   * does (build when stale, serve the demo site); `transcoder` runs `reelkit-transcoder` from
   * `packages/transcoder/src/bin.ts` through tsx.
   */
  entry?: "source" | "built" | "npm-start" | "transcoder";
  /** How long to wait for the "Server listening" log line. */
  startTimeoutMs?: number;
  /**
   * A free port to listen on (passed as PORT): the server counts as started once `/healthz`
   * answers there, so it may run with a log level that hides the "Server listening" line.
   */
  port?: number;
  /** Receives every log line (stdout and stderr) as it arrives, beyond the recent ones kept. */
  onLog?: (line: string) => void;
}

/** A port nothing listens on right now (the OS picks it). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * A real `reelkit-server` (or `reelkit-transcoder`) in a child process, in its own process group so that killing the
 * group also takes the ffmpeg processes it spawned (what a container runtime does on a crash).
 */
export class ServerProcess {
  readonly base: string;
  readonly port: number;
  private exitPromise: Promise<number | null>;
  private log: string[];

  private constructor(
    readonly child: ChildProcess,
    port: number,
    log: string[],
    exit: Promise<number | null>,
    /** `<REELKIT_DATA_DIR>/db` when the server runs the embedded database, else null. */
    private readonly embeddedDbDir: string | null,
  ) {
    this.port = port;
    this.base = `http://127.0.0.1:${port}`;
    this.log = log;
    this.exitPromise = exit;
  }

  get pid(): number {
    return this.child.pid as number;
  }

  /** The last log lines (JSON, one per line), for failure messages. */
  recentLog(): string {
    return this.log.join("\n");
  }

  static async start(opts: ServerProcessOptions): Promise<ServerProcess> {
    const args = {
      built: [path.join(REPO_ROOT, "packages/server/dist/bin.js")],
      "npm-start": [path.join(REPO_ROOT, "scripts/start.mjs")],
      source: ["--import", "tsx", path.join(REPO_ROOT, "packages/server/src/bin.ts")],
      transcoder: ["--import", "tsx", path.join(REPO_ROOT, "packages/transcoder/src/bin.ts")],
    }[opts.entry ?? "source"];
    const child = spawn(process.execPath, args, {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        HOST: "127.0.0.1",
        REELKIT_LOG_LEVEL: "info",
        ...opts.env,
        ...(opts.port ? { PORT: String(opts.port) } : {}),
      },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    const log: string[] = [];
    const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`server did not start:\n${log.join("\n")}`)),
        opts.startTimeoutMs ?? 60_000,
      );
      let pending = "";
      const onData = (chunk: Buffer) => {
        pending += chunk.toString("utf8");
        const lines = pending.split("\n");
        pending = lines.pop() ?? "";
        for (const line of lines) {
          log.push(line);
          if (log.length > 200) log.shift();
          opts.onLog?.(line);
          const m = /(?:Server|Transcoder) listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(line);
          if (m) {
            clearTimeout(timer);
            resolve(Number(m[1]));
          }
        }
      };
      child.stdout?.on("data", onData);
      child.stderr?.on("data", onData);
      if (opts.port) {
        const port = opts.port;
        const poll = async () => {
          while (child.exitCode === null) {
            const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then(
              (r) => r.ok,
              () => false,
            );
            if (ok) {
              clearTimeout(timer);
              resolve(port);
              return;
            }
            await new Promise((r) => setTimeout(r, 100));
          }
        };
        void poll();
      }
      exit.then((code) => {
        clearTimeout(timer);
        reject(new Error(`server exited with ${code} before listening:\n${log.join("\n")}`));
      });
    });
    const env = { ...process.env, ...opts.env };
    const embeddedDbDir = env.DATABASE_URL ? null : path.resolve(REPO_ROOT, env.REELKIT_DATA_DIR ?? "data", "db");
    return new ServerProcess(child, port, log, exit, embeddedDbDir);
  }

  /** Process groups led by a watchdog this process spawned: one per running ffmpeg/ffprobe. */
  encoderGroups(): number[] {
    return processTable()
      .filter((p) => p.ppid === this.pid && p.pid === p.pgid)
      .map((p) => p.pid);
  }

  /** SIGKILL: no shutdown hook runs, nothing is flushed by the process itself. */
  async crash(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGKILL");
    await this.exitPromise;
  }

  /**
   * Ends the server and everything it spawned, whatever state it is in; resolves once its
   * embedded database (a process group of its own, stopped by its watchdog when the server dies)
   * has exited too, so the data directory can be removed.
   */
  async destroy(): Promise<void> {
    try {
      process.kill(-this.pid, "SIGKILL");
    } catch {
      // the group is already gone
    }
    await this.exitPromise;
    await this.databaseEnded();
  }

  private async databaseEnded(): Promise<void> {
    if (!this.embeddedDbDir) return;
    let pid: number;
    try {
      pid = Number(readFileSync(path.join(this.embeddedDbDir, "postmaster.pid"), "utf8").split("\n")[0]);
    } catch {
      return; // never started, or shut down cleanly
    }
    const alive = () => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    for (let i = 0; i < 600 && alive(); i++) await new Promise((r) => setTimeout(r, 50));
  }

  /**
   * Sends `signal` to the server's whole process group, as a terminal's Ctrl-C or systemd's
   * stop does; resolves with the exit code.
   */
  async signalGroup(signal: NodeJS.Signals): Promise<number | null> {
    try {
      process.kill(-this.pid, signal);
    } catch {
      // the group is already gone
    }
    return this.exitPromise;
  }

  /** Graceful SIGTERM shutdown; resolves with the exit code. */
  async stop(): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGTERM");
    return this.exitPromise;
  }
}

/** True while any process of group `pgid` exists. */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}
