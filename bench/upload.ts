/**
 * Upload throughput: a file through tus into the real, BUILT server (packages/server/dist/bin.js,
 * embedded mode, a child process) vs a raw streaming HTTP PUT into a minimal node:http server
 * (also a child process) writing to the same disk. Loopback, one client process (this one).
 *
 * Standalone: npx tsx bench/upload.ts [MiB=1024] [rounds=3]   (run `npm run build` first)
 * `npm run bench` runs it through bench/index.ts, also against PostgreSQL when available.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createReadStream, existsSync } from "node:fs";
import fs from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import * as tus from "tus-js-client";
import { signUp } from "../packages/server/test/factories.js";
import { REPO_ROOT, ServerProcess } from "../packages/server/test/server-process.js";
import { serverNodeOptions } from "../scripts/server-node-options.mjs";
import { fmt, freshDatabase, type ProcessSample, rssMb, sampleProcess, verdict } from "./lib.js";

export interface UploadBenchOptions {
  mib: number;
  /** Measured rounds of each (raw, tus alternate); the median is reported. */
  rounds: number;
  /** tus-js-client chunk size in MiB; Infinity (its default) sends one PATCH, like the raw PUT. */
  chunkMib: number;
  /** A PostgreSQL server URL: the tus server runs with DATABASE_URL on a fresh database there. */
  postgresUrl?: string | null;
}

export interface UploadRun {
  mbps: number;
  server: ProcessSample;
  /** RSS (MB) of the server right after it started listening, before any request. */
  rssFresh?: number;
}

export interface UploadBenchResult {
  raw: UploadRun;
  tus: UploadRun;
  tusPostgres: UploadRun | null;
}

const RAW_SERVER = `
const http = require("node:http"), fs = require("node:fs"), path = require("node:path");
http.createServer((req, res) => {
  if (req.method !== "PUT") { res.writeHead(200); res.end("ok"); return; }
  const out = fs.createWriteStream(path.join(process.env.DIR, "raw-upload"));
  req.pipe(out);
  out.on("finish", () => { res.writeHead(204); res.end(); });
}).listen(0, "127.0.0.1", function () { console.log("listening " + this.address().port); });
`;

function startRawServer(dir: string): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ["-e", RAW_SERVER], {
    env: { ...process.env, DIR: dir },
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    child.stdout?.once("data", (d: Buffer) => {
      const m = /listening (\d+)/.exec(d.toString());
      if (m) resolve({ child, port: Number(m[1]) });
      else reject(new Error(`raw server: ${d}`));
    });
    child.once("exit", (code) => reject(new Error(`raw server exited with ${code}`)));
  });
}

function rawPut(port: number, file: string, size: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const req = http.request(
      { host: "127.0.0.1", port, method: "PUT", path: "/", headers: { "content-length": size } },
      (res) => {
        res.resume();
        if (res.statusCode === 204) resolve();
        else reject(new Error(`PUT ${res.statusCode}`));
      },
    );
    req.on("error", reject);
    createReadStream(file).pipe(req);
  });
}

/** Resolves with the video id the server named in the creation response. */
export function tusUpload(base: string, auth: Record<string, string>, file: string, chunkMib: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let videoId: string | null = null;
    new tus.Upload(createReadStream(file), {
      endpoint: `${base}/api/uploads`,
      chunkSize: Number.isFinite(chunkMib) ? chunkMib * 1024 * 1024 : Number.POSITIVE_INFINITY,
      retryDelays: [],
      headers: auth,
      metadata: { filename: "input.bin", title: "bench" },
      onAfterResponse: (req, res) => {
        if (req.getMethod() === "POST") videoId = res.getHeader("Reelkit-Video-Id") ?? null;
      },
      onError: reject,
      onSuccess: () => (videoId ? resolve(videoId) : reject(new Error("no Reelkit-Video-Id header"))),
    }).start();
  });
}

/**
 * The random bytes fail to transcode right after the upload; wait for that, then delete the
 * video (and its 1 GiB source) so the next round starts from the same state.
 */
async function removeVideo(base: string, auth: Record<string, string>, id: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const video = (await (await fetch(`${base}/api/videos/${id}`)).json()) as { status: string };
    if (video.status === "FAILED" || video.status === "READY") break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const res = await fetch(`${base}/api/videos/${id}`, { method: "DELETE", headers: auth });
  if (!res.ok) throw new Error(`DELETE video ${res.status}`);
}

function median(runs: UploadRun[]): UploadRun {
  const sorted = [...runs].sort((a, b) => a.mbps - b.mbps);
  const mid = sorted[Math.floor(sorted.length / 2)] as UploadRun;
  // Memory is reported as the worst round, not the median one.
  const worst = (k: "rssPeak" | "rssHwm") => Math.max(...runs.map((r) => r.server[k]));
  return { mbps: mid.mbps, server: { ...mid.server, rssPeak: worst("rssPeak"), rssHwm: worst("rssHwm") } };
}

export async function runUploadBench(opts: UploadBenchOptions): Promise<UploadBenchResult> {
  const size = opts.mib * 1024 * 1024;
  if (!existsSync(path.join(REPO_ROOT, "packages/server/dist/bin.js"))) {
    throw new Error("packages/server/dist/bin.js is missing: run `npm run build` first");
  }
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "reelkit-upload-bench-"));
  const file = path.join(dir, "input.bin");
  const stops: (() => Promise<unknown>)[] = [];
  try {
    // Incompressible data: a 1 MiB random block repeated.
    const block = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < block.length; i++) block[i] = (Math.random() * 256) | 0;
    const handle = await fs.open(file, "w");
    for (let i = 0; i < opts.mib; i++) await handle.write(block);
    await handle.close();
    execFileSync("sync");

    const raw = await startRawServer(dir);
    const rawFresh = rssMb(raw.child.pid as number);
    stops.push(async () => raw.child.kill("SIGTERM"));

    // Written data leaves the page cache dirty: every round ends with `sync`, so one round's
    // writeback does not slow the next.
    const startTus = async (env: Record<string, string>) => {
      const server = await ServerProcess.start({
        entry: "built",
        env: {
          PORT: "0",
          REELKIT_DATA_DIR: path.join(dir, `data-${stops.length}`),
          // The V8 heap bounds `npm start` gives the server (scripts/server-node-options.mjs).
          NODE_OPTIONS: serverNodeOptions(process.env.NODE_OPTIONS),
          ...env,
        },
      });
      stops.push(() => server.destroy());
      return server;
    };
    const embedded = await startTus({});
    const embeddedFresh = rssMb(embedded.pid);

    const measure = async (pid: number, work: () => Promise<void>, cleanup: () => Promise<void>) => {
      const server = await sampleProcess(pid, work);
      await cleanup();
      execFileSync("sync");
      return { mbps: size / 1e6 / server.wall, server };
    };
    const rawRound = () =>
      measure(
        raw.child.pid as number,
        () => rawPut(raw.port, file, size),
        () => fs.rm(path.join(dir, "raw-upload"), { force: true }),
      );
    // Uploads need an account: one per server, signed up before the rounds.
    const accounts = new Map<ServerProcess, Record<string, string>>();
    const tusRound = async (server: ServerProcess) => {
      let auth = accounts.get(server);
      if (!auth) {
        auth = (await signUp(server.base)).bearer;
        accounts.set(server, auth);
      }
      const headers = auth;
      let id = "";
      return measure(
        server.pid,
        async () => {
          id = await tusUpload(server.base, headers, file, opts.chunkMib);
        },
        () => removeVideo(server.base, headers, id),
      );
    };

    const rawRuns: UploadRun[] = [];
    const tusRuns: UploadRun[] = [];
    // One untimed warm-up of each path (JIT, first-request setup), then alternate.
    await rawRound();
    await tusRound(embedded);
    for (let round = 0; round < opts.rounds; round++) {
      rawRuns.push(await rawRound());
      tusRuns.push(await tusRound(embedded));
    }

    let tusPostgres: UploadRun | null = null;
    if (opts.postgresUrl) {
      const db = await freshDatabase(opts.postgresUrl);
      stops.push(() => db.drop());
      const server = await startTus({ DATABASE_URL: db.url });
      const fresh = rssMb(server.pid);
      await tusRound(server);
      const runs: UploadRun[] = [];
      for (let round = 0; round < opts.rounds; round++) runs.push(await tusRound(server));
      tusPostgres = { ...median(runs), rssFresh: fresh };
    }
    return {
      raw: { ...median(rawRuns), rssFresh: rawFresh },
      tus: { ...median(tusRuns), rssFresh: embeddedFresh },
      tusPostgres,
    };
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => {});
    await fs.rm(dir, { recursive: true, force: true });
  }
}

export function printUploadResult(opts: UploadBenchOptions, r: UploadBenchResult): void {
  const chunk = Number.isFinite(opts.chunkMib) ? `${opts.chunkMib} MiB chunks` : "one PATCH (tus-js-client default)";
  console.log(`\n== upload: ${opts.mib} MiB over loopback, median of ${opts.rounds} rounds, tus client: ${chunk}`);
  const cpuPerMib = (run: UploadRun) => (run.server.cpu * 1000) / opts.mib;
  const line = (label: string, run: UploadRun) =>
    console.log(
      `${label.padEnd(22)} ${fmt(run.mbps).padStart(7)} MB/s   server CPU ${fmt(run.server.cpu, 2)} s (${fmt(cpuPerMib(run), 2)} ms/MiB)` +
        `   RSS ${fmt(run.rssFresh ?? Number.NaN, 0)} MB fresh, ${fmt(run.server.rssBefore, 0)} MB warm, peak ${fmt(run.server.rssPeak, 0)} MB during upload` +
        ` (+${fmt(run.server.rssPeak - run.server.rssBefore, 0)}), lifetime peak ${fmt(run.server.rssHwm, 0)} MB`,
    );
  line("raw streaming PUT", r.raw);
  line("tus (embedded)", r.tus);
  if (r.tusPostgres) line("tus (PostgreSQL)", r.tusPostgres);
  const ratio = r.tus.mbps / r.raw.mbps;
  console.log(`ratio tus/raw ${fmt(ratio, 2)}  (expected >= 0.9: ${verdict(ratio >= 0.9)})`);
  if (r.tusPostgres) console.log(`ratio tus(PostgreSQL)/raw ${fmt(r.tusPostgres.mbps / r.raw.mbps, 2)}`);
  // CPU time moves much less than throughput with whatever else the machine runs.
  const cpuRatio = cpuPerMib(r.tus) / cpuPerMib(r.raw);
  console.log(`server CPU per MiB tus/raw ${fmt(cpuRatio, 2)}  (expected <= 1.5: ${verdict(cpuRatio <= 1.5)})`);
  if (r.tusPostgres) {
    const pgRatio = cpuPerMib(r.tusPostgres) / cpuPerMib(r.raw);
    console.log(
      `server CPU per MiB tus(PostgreSQL)/raw ${fmt(pgRatio, 2)}  (expected <= 1.5: ${verdict(pgRatio <= 1.5)})`,
    );
  }
  const peak = r.tusPostgres ?? r.tus;
  console.log(
    `server peak RSS during upload ${fmt(peak.server.rssPeak, 0)} MB on ${r.tusPostgres ? "PostgreSQL" : "the embedded database"}` +
      ` (expected <= 150 MB: ${verdict(peak.server.rssPeak <= 150)})` +
      (r.tusPostgres ? `; embedded ${fmt(r.tus.server.rssPeak, 0)} MB (its database is a process of its own)` : ""),
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const opts: UploadBenchOptions = {
    mib: Number(process.argv[2] ?? 1024),
    rounds: Number(process.argv[3] ?? 3),
    chunkMib: Number.POSITIVE_INFINITY,
    postgresUrl: process.env.DATABASE_URL_TEST ?? null,
  };
  printUploadResult(opts, await runUploadBench(opts));
}
