/**
 * Catalog reads under load: N clients (autocannon, keep-alive) list `GET /api/videos` on the BUILT
 * server (packages/server/dist/bin.js, a child process) while one more client probes `/healthz`
 * every 20 ms; embedded mode (its own PostgreSQL child process) and, when a PostgreSQL server is
 * given, PostgreSQL mode on a fresh database there. Loopback only, bounded in time.
 *
 * Standalone: npx tsx bench/read-load.ts [seconds=15] [clients=50]   (run `npm run build` first)
 * The server's RSS is reported fresh (as it starts listening), idle after start-up, warm (after a
 * 3 s warm-up), at its peak under load and idle after the load (idle: once the server has given
 * back the memory the work grew, see packages/server/src/idle-memory.ts); the embedded
 * database's processes separately, as PSS (shared buffers counted once).
 */
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Worker } from "node:worker_threads";
import autocannon from "autocannon";
import { openDatabase } from "../packages/server/src/db/database.js";
import { REPO_ROOT, ServerProcess } from "../packages/server/test/server-process.js";
import { serverNodeOptions } from "../scripts/server-node-options.mjs";
import { descendantsPssMb, fmt, freshDatabase, rssMb, verdict } from "./lib.js";

export interface ReadLoadOptions {
  seconds: number;
  clients: number;
  /** READY videos in the catalog (the list returns the newest 20). */
  videos: number;
  /** Measured rounds per mode, alternating; medians are reported (memory: the highest). */
  rounds: number;
  postgresUrl?: string | null;
}

export interface ReadLoadRun {
  listRps: number;
  listP50: number;
  listP99: number;
  listErrors: number;
  healthzP50: number;
  healthzP99: number;
  healthzMax: number;
  healthzCount: number;
  /**
   * Server RSS (MB): when it started listening, idle after start-up, after the warm-up, highest
   * sampled under load, idle after it.
   */
  rssFresh: number;
  rssIdleBefore: number;
  rssWarm: number;
  rssPeak: number;
  rssIdle: number;
  /** PSS (MB) of the server's child processes (the embedded database), highest under load. */
  childPssPeak: number;
}

export interface ReadLoadResult {
  embedded: ReadLoadRun;
  postgres: ReadLoadRun | null;
}

const CODECS = "avc1.640028,mp4a.40.2";

async function seed(dataDir: string, databaseUrl: string | null, videos: number): Promise<void> {
  const db = await openDatabase({ dataDir, databaseUrl });
  try {
    const now = Date.now();
    await db.prisma.video.createMany({
      data: Array.from({ length: videos }, (_, i) => {
        const id = randomUUID();
        return {
          id,
          title: `Harbour at dawn, take ${i}`,
          description: `Boats leave the harbour while the light comes up (${i}).`,
          status: "READY" as const,
          progress: 100,
          duration: 12.5,
          width: 1920,
          height: 1080,
          frameRate: 30,
          renditions: [
            {
              name: "1080p",
              width: 1920,
              height: 1080,
              bandwidth: 5_000_000,
              averageBandwidth: 4_200_000,
              codecs: CODECS,
              frameRate: 30,
            },
            {
              name: "720p",
              width: 1280,
              height: 720,
              bandwidth: 3_000_000,
              averageBandwidth: 2_500_000,
              codecs: CODECS,
              frameRate: 30,
            },
          ],
          masterKey: `videos/${id}/hls/master.m3u8`,
          posterKey: `videos/${id}/poster.jpg`,
          publishedAt: new Date(now - i * 60_000),
        };
      }),
    });
  } finally {
    await db.close();
  }
}

/** `/healthz` every 20 ms until told to stop; posts the latencies (ms; a timeout counts 10 s). */
const PROBE = `
const { parentPort, workerData } = require("node:worker_threads");
let probing = true;
const latencies = [];
parentPort.once("message", () => { probing = false; });
(async () => {
  while (probing) {
    const t0 = performance.now();
    try {
      const res = await fetch(workerData.url, { signal: AbortSignal.timeout(10_000) });
      await res.arrayBuffer();
      latencies.push(performance.now() - t0);
    } catch {
      latencies.push(10_000);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  parentPort.postMessage(latencies);
})();
`;

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

/** A started server and its RSS before any load (MB). */
interface Started {
  server: ServerProcess;
  rssFresh: number;
  rssIdleBefore: number;
}

async function measure({ server, rssFresh, rssIdleBefore }: Started, opts: ReadLoadOptions): Promise<ReadLoadRun> {
  const url = `${server.base}/api/videos`;
  const first = await fetch(url);
  const body = (await first.json()) as { items?: unknown[] };
  if (first.status !== 200 || body.items?.length !== 20) {
    throw new Error(`GET /api/videos answered ${first.status} with ${JSON.stringify(body).slice(0, 300)}`);
  }
  // Warm-up: JIT, connection pool, the database's caches.
  await autocannon({ url, connections: 10, duration: 3 });
  const rssWarm = rssMb(server.pid);

  // The probe runs on a thread of its own: on the load generator's event loop (autocannon's 50
  // connections) it would time that loop, not the server.
  const probe = new Worker(PROBE, { eval: true, workerData: { url: `${server.base}/healthz` } });
  const latencies = new Promise<number[]>((resolve, reject) => {
    probe.once("message", resolve);
    probe.once("error", reject);
  });
  let rssPeak = rssWarm;
  let childPssPeak = 0;
  const sampler = setInterval(() => {
    rssPeak = Math.max(rssPeak, rssMb(server.pid));
    childPssPeak = Math.max(childPssPeak, descendantsPssMb(server.pid));
  }, 200);
  const result = await autocannon({ url, connections: opts.clients, duration: opts.seconds, timeout: 10 });
  probe.postMessage("stop");
  const probed = (await latencies).sort((a, b) => a - b);
  await probe.terminate();
  clearInterval(sampler);
  const rssIdle = await idleRss(server.pid);
  return {
    listRps: result.requests.average,
    listP50: result.latency.p50,
    listP99: result.latency.p99,
    listErrors: result.errors + result.timeouts + result.non2xx,
    healthzP50: quantile(probed, 0.5),
    healthzP99: quantile(probed, 0.99),
    healthzMax: probed.at(-1) ?? Number.NaN,
    healthzCount: probed.length,
    rssFresh,
    rssIdleBefore,
    rssWarm,
    rssPeak,
    rssIdle,
    childPssPeak,
  };
}

/**
 * The server's RSS once it has sat idle for 20 s, after start-up or the load (it gives memory back
 * after 10 s without work).
 */
async function idleRss(pid: number): Promise<number> {
  await new Promise((r) => setTimeout(r, 20_000));
  return rssMb(pid);
}

/** Per figure, the median of the rounds (memory: the highest). */
function combine(runs: ReadLoadRun[]): ReadLoadRun {
  const med = (k: keyof ReadLoadRun) => {
    const sorted = runs.map((r) => r[k]).sort((x, y) => x - y);
    return sorted[Math.floor(sorted.length / 2)] as number;
  };
  const max = (k: keyof ReadLoadRun) => Math.max(...runs.map((r) => r[k]));
  return {
    listRps: med("listRps"),
    listP50: med("listP50"),
    listP99: med("listP99"),
    listErrors: max("listErrors"),
    healthzP50: med("healthzP50"),
    healthzP99: med("healthzP99"),
    healthzMax: max("healthzMax"),
    healthzCount: med("healthzCount"),
    rssFresh: max("rssFresh"),
    rssIdleBefore: max("rssIdleBefore"),
    rssWarm: max("rssWarm"),
    rssPeak: max("rssPeak"),
    rssIdle: max("rssIdle"),
    childPssPeak: max("childPssPeak"),
  };
}

export async function runReadLoadBench(opts: ReadLoadOptions): Promise<ReadLoadResult> {
  if (!existsSync(path.join(REPO_ROOT, "packages/server/dist/bin.js"))) {
    throw new Error("packages/server/dist/bin.js is missing: run `npm run build` first");
  }
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "reelkit-read-bench-"));
  const stops: (() => Promise<unknown>)[] = [];
  const start = async (name: string, databaseUrl: string | null): Promise<Started> => {
    const dataDir = path.join(dir, name);
    await seed(dataDir, databaseUrl, opts.videos);
    const server = await ServerProcess.start({
      entry: "built",
      env: {
        PORT: "0",
        REELKIT_DATA_DIR: dataDir,
        REELKIT_DEMO_DIR: "",
        // The V8 heap bounds `npm start` gives the server (NODE_OPTIONS set here wins).
        NODE_OPTIONS: serverNodeOptions(process.env.NODE_OPTIONS),
        ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
      },
    });
    stops.push(() => server.stop());
    const rssFresh = rssMb(server.pid);
    return { server, rssFresh, rssIdleBefore: await idleRss(server.pid) };
  };
  try {
    const embedded = await start("embedded", null);
    let postgres: Started | null = null;
    if (opts.postgresUrl) {
      const db = await freshDatabase(opts.postgresUrl);
      stops.push(() => db.drop());
      postgres = await start("postgres", db.url);
    }
    // Rounds alternate between the modes, so a change in the machine's load hits both alike.
    const runs: { embedded: ReadLoadRun[]; postgres: ReadLoadRun[] } = { embedded: [], postgres: [] };
    for (let round = 0; round < opts.rounds; round++) {
      runs.embedded.push(await measure(embedded, opts));
      if (postgres) runs.postgres.push(await measure(postgres, opts));
    }
    return { embedded: combine(runs.embedded), postgres: postgres ? combine(runs.postgres) : null };
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => {});
    await fs.rm(dir, { recursive: true, force: true });
  }
}

export function printReadLoadResult(opts: ReadLoadOptions, r: ReadLoadResult): void {
  console.log(
    `\n== read load: ${opts.clients} clients on GET /api/videos for ${opts.seconds} s (${opts.videos} READY videos), ` +
      `/healthz probed every 20 ms; median of ${opts.rounds} alternating rounds`,
  );
  const line = (label: string, run: ReadLoadRun) =>
    console.log(
      `${label.padEnd(12)} list ${fmt(run.listRps, 0).padStart(5)} req/s (p50 ${run.listP50} ms, p99 ${run.listP99} ms, ${run.listErrors} errors)` +
        `   /healthz p50 ${fmt(run.healthzP50)} p99 ${fmt(run.healthzP99)} max ${fmt(run.healthzMax)} ms (${run.healthzCount} probes)` +
        `   server RSS ${fmt(run.rssFresh, 0)} fresh, ${fmt(run.rssIdleBefore, 0)} idle, ${fmt(run.rssWarm, 0)} warm, peak ${fmt(run.rssPeak, 0)}, idle after ${fmt(run.rssIdle, 0)} MB` +
        (run.childPssPeak > 0 ? `   database process ${fmt(run.childPssPeak, 0)} MB (PSS)` : ""),
    );
  line("embedded", r.embedded);
  if (r.postgres) line("PostgreSQL", r.postgres);
  const e = r.embedded;
  console.log(`/healthz p99 ${fmt(e.healthzP99)} ms embedded (expected <= 50 ms: ${verdict(e.healthzP99 <= 50)})`);
  if (r.postgres) {
    const ratio = e.listRps / r.postgres.listRps;
    console.log(`list req/s embedded/PostgreSQL ${fmt(ratio, 2)} (expected >= 0.8: ${verdict(ratio >= 0.8)})`);
  }
  const idle = Math.max(e.rssIdleBefore, e.rssIdle);
  console.log(
    `server RSS embedded, idle: ${fmt(e.rssIdleBefore, 0)} MB after start-up, ${fmt(e.rssIdle, 0)} MB after the load (expected <= 150 MB: ${verdict(idle <= 150)}; ${fmt(e.rssFresh, 0)} MB as it started listening)`,
  );
  // Not a target: V8 sizes its heap for throughput while the load runs (see server-node-options.mjs).
  console.log(`server RSS embedded, peak under the load: ${fmt(e.rssPeak, 0)} MB`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const opts: ReadLoadOptions = {
    seconds: Number(process.argv[2] ?? 15),
    clients: Number(process.argv[3] ?? 50),
    videos: 300,
    rounds: 3,
    postgresUrl: process.env.DATABASE_URL_TEST ?? null,
  };
  printReadLoadResult(opts, await runReadLoadBench(opts));
}
