/**
 * Media delivery: the BUILT server's `/media` (embedded defaults, local storage) against a plain
 * Node file server — `http.createServer` + `fs.createReadStream`, the baseline the catalog issue
 * names — on the same files, both child processes, the same load (N keep-alive
 * clients cycling through a rendition's playlist, init segment and media segments of several
 * sizes). Rounds alternate between the two; medians are reported with the ratio.
 *
 * Standalone: npx tsx bench/media.ts [seconds=10] [clients=50]   (run `npm run build` first)
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import fs from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { ServerProcess } from "../packages/server/test/server-process.js";
import { fmt, verdict } from "./lib.js";

export interface MediaOptions {
  seconds: number;
  clients: number;
  rounds: number;
}

export interface MediaRun {
  rps: number;
  mibPerSecond: number;
  p50: number;
  p99: number;
  errors: number;
  /** The server process's CPU time (every thread: GC, thread pool) per request; null without /proc. */
  cpuMsPerRequest: number | null;
}

export interface MediaResult {
  reelkit: MediaRun;
  plain: MediaRun;
  files: number;
  bytes: number;
}

/** What one rendition of a 20 s video looks like on disk: a playlist, an init segment, ten segments. */
const SEGMENT_SIZES = [180, 240, 320, 400, 520, 640, 760, 900, 1100, 1300].map((kib) => kib * 1024);

async function writeVideo(root: string): Promise<{ paths: string[]; bytes: number }> {
  const id = randomUUID();
  const dir = path.join(root, "videos", id, "hls", "720p");
  await fs.mkdir(dir, { recursive: true });
  const lines = ["#EXTM3U", "#EXT-X-VERSION:7", "#EXT-X-TARGETDURATION:2", "#EXT-X-PLAYLIST-TYPE:VOD"];
  lines.push('#EXT-X-MAP:URI="init.mp4"');
  const paths = [`/media/videos/${id}/hls/720p/index.m3u8`, `/media/videos/${id}/hls/720p/init.mp4`];
  let bytes = 0;
  await fs.writeFile(path.join(dir, "init.mp4"), randomBytes(1200));
  bytes += 1200;
  for (const [i, size] of SEGMENT_SIZES.entries()) {
    const name = `seg-${String(i).padStart(3, "0")}.m4s`;
    await fs.writeFile(path.join(dir, name), randomBytes(size));
    bytes += size;
    lines.push("#EXTINF:2.000000,", name);
    paths.push(`/media/videos/${id}/hls/720p/${name}`);
  }
  lines.push("#EXT-X-ENDLIST", "");
  const playlist = lines.join("\n");
  await fs.writeFile(path.join(dir, "index.m3u8"), playlist);
  bytes += playlist.length;
  return { paths, bytes };
}

/** The baseline: the smallest reasonable Node file server for the same tree. */
const PLAIN_SERVER = `
const http = require("node:http");
const fs = require("node:fs");
const path = require("node:path");
const root = process.argv[1];
const types = { m3u8: "application/vnd.apple.mpegurl", mp4: "video/mp4", m4s: "video/iso.segment" };
const server = http.createServer((req, res) => {
  const rel = decodeURIComponent(req.url.split("?")[0]).replace(/^\\/media\\//, "");
  const file = path.join(root, rel);
  fs.stat(file, (err, st) => {
    if (err) { res.statusCode = 404; return res.end(); }
    res.setHeader("Content-Type", types[path.extname(file).slice(1)] ?? "application/octet-stream");
    res.setHeader("Content-Length", st.size);
    fs.createReadStream(file).pipe(res);
  });
});
server.listen(0, "127.0.0.1", () => console.log(String(server.address().port)));
`;

async function startPlain(root: string): Promise<{ child: ChildProcess; base: string }> {
  // Detached like the reelkit server (ServerProcess): its own session, so a scheduler that shares
  // CPU between sessions (Linux autogroup) treats both servers alike, apart from the load generator.
  const child = spawn(process.execPath, ["-e", PLAIN_SERVER, root], {
    stdio: ["ignore", "pipe", "inherit"],
    detached: true,
  });
  const port = await new Promise<string>((resolve, reject) => {
    child.stdout?.once("data", (d: Buffer) => resolve(d.toString().trim()));
    child.once("exit", (code) => reject(new Error(`plain file server exited with ${code}`)));
  });
  return { child, base: `http://127.0.0.1:${port}` };
}

/**
 * N keep-alive clients, each fetching the files in turn for `seconds`, bodies discarded by Node's
 * own HTTP client (llhttp): a client that costs less than the servers it measures.
 */
async function hammer(base: string, paths: string[], clients: number, seconds: number): Promise<MediaRun> {
  const url = new URL(base);
  const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
  const latencies: number[] = [];
  let bytes = 0;
  let errors = 0;
  const until = performance.now() + seconds * 1000;
  const get = (p: string) =>
    new Promise<void>((resolve) => {
      const req = http.get({ host: url.hostname, port: url.port, path: p, agent }, (res) => {
        if (res.statusCode !== 200) errors++;
        res.on("data", (chunk: Buffer) => {
          bytes += chunk.length;
        });
        res.on("end", resolve);
        res.on("error", () => {
          errors++;
          resolve();
        });
      });
      req.on("error", () => {
        errors++;
        resolve();
      });
    });
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      for (let i = c; performance.now() < until; i++) {
        const t0 = performance.now();
        await get(paths[i % paths.length] as string);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const q = (f: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(f * latencies.length))] ?? 0);
  return {
    rps: latencies.length / elapsed,
    mibPerSecond: bytes / elapsed / 2 ** 20,
    p50: q(0.5),
    p99: q(0.99),
    errors,
    cpuMsPerRequest: null,
  };
}

/** CPU time (user + system, every thread) a process has used so far, in ms; null without /proc. */
function cpuMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // utime and stime, in clock ticks (USER_HZ, 100 on Linux).
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return null;
  }
}

async function load(base: string, paths: string[], opts: MediaOptions, pid: number): Promise<MediaRun> {
  // Every file answers 200 with its bytes before the load starts.
  for (const p of paths) {
    const res = await fetch(base + p);
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`GET ${base}${p} answered ${res.status}`);
  }
  await hammer(base, paths, 10, 2);
  const before = cpuMs(pid);
  const run = await hammer(base, paths, opts.clients, opts.seconds);
  const after = cpuMs(pid);
  const requests = run.rps * opts.seconds;
  run.cpuMsPerRequest = before === null || after === null || requests === 0 ? null : (after - before) / requests;
  return run;
}

function median(runs: MediaRun[], pick: (r: MediaRun) => number): number {
  const sorted = runs.map(pick).sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

function medianRun(runs: MediaRun[]): MediaRun {
  return {
    rps: median(runs, (r) => r.rps),
    mibPerSecond: median(runs, (r) => r.mibPerSecond),
    p50: median(runs, (r) => r.p50),
    p99: median(runs, (r) => r.p99),
    errors: runs.reduce((sum, r) => sum + r.errors, 0),
    cpuMsPerRequest: runs.some((r) => r.cpuMsPerRequest === null) ? null : median(runs, (r) => r.cpuMsPerRequest ?? 0),
  };
}

export async function runMediaBench(opts: MediaOptions): Promise<MediaResult> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "reelkit-bench-media-"));
  // Local storage keeps its objects under <data dir>/media.
  const mediaRoot = path.join(dataDir, "media");
  const paths: string[] = [];
  let bytes = 0;
  for (let i = 0; i < 4; i++) {
    const video = await writeVideo(mediaRoot);
    paths.push(...video.paths);
    bytes += video.bytes;
  }
  const server = await ServerProcess.start({
    entry: "built",
    env: { PORT: "0", REELKIT_DATA_DIR: dataDir, REELKIT_DEMO_DIR: "", REELKIT_TRANSCODER: "off" },
  });
  const plain = await startPlain(mediaRoot);
  const reelkitRuns: MediaRun[] = [];
  const plainRuns: MediaRun[] = [];
  try {
    for (let round = 0; round < opts.rounds; round++) {
      reelkitRuns.push(await load(server.base, paths, opts, server.pid));
      plainRuns.push(await load(plain.base, paths, opts, plain.child.pid as number));
    }
  } finally {
    plain.child.kill();
    await server.stop();
    await server.destroy();
    await fs.rm(dataDir, { recursive: true, force: true });
  }
  return { reelkit: medianRun(reelkitRuns), plain: medianRun(plainRuns), files: paths.length, bytes };
}

export function printMediaResult(r: MediaResult, opts: MediaOptions): void {
  const ratio = r.reelkit.rps / r.plain.rps;
  console.log(
    `\n## Media delivery (local storage): ${opts.clients} clients, ${opts.seconds} s, median of ${opts.rounds} alternating rounds`,
  );
  console.log(
    `${r.files} files (playlists, init and 180 KiB–1.3 MiB segments of 4 videos), ${fmt(r.bytes / 2 ** 20)} MiB`,
  );
  console.log("| server | req/s | MiB/s | p50 ms | p99 ms | errors | server CPU ms/req |");
  console.log("|---|---:|---:|---:|---:|---:|---:|");
  for (const [name, run] of [
    ["reelkit /media", r.reelkit],
    ["plain node http + fs.createReadStream", r.plain],
  ] as const) {
    console.log(
      `| ${name} | ${fmt(run.rps, 0)} | ${fmt(run.mibPerSecond)} | ${run.p50} | ${run.p99} | ${run.errors} | ${run.cpuMsPerRequest === null ? "—" : fmt(run.cpuMsPerRequest, 3)} |`,
    );
  }
  console.log(`ratio reelkit / plain node: ${fmt(ratio, 2)}× (expected ≥1.0) ${verdict(ratio >= 1)}`);
  // req/s moves with whatever else the machine runs; CPU time per request much less so.
  if (r.reelkit.cpuMsPerRequest !== null && r.plain.cpuMsPerRequest !== null) {
    console.log(
      `server CPU per request, plain node / reelkit: ${fmt(r.plain.cpuMsPerRequest / r.reelkit.cpuMsPerRequest, 2)}× (≥1.0: reelkit costs no more per file)`,
    );
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const opts = { seconds: Number(process.argv[2] ?? 10), clients: Number(process.argv[3] ?? 50), rounds: 3 };
  printMediaResult(await runMediaBench(opts), opts);
}
