/**
 * Media delivery: the BUILT server's `/media` (embedded defaults, local storage) against a plain
 * Node file server (`http.createServer` + `fs.createReadStream`) and, when `nginx` is on PATH,
 * nginx with `sendfile on` (a generated config, one worker process, serving the same directory):
 * all child processes, the same load (N keep-alive clients). The files belong to a real READY
 * video (a tiny clip uploaded and transcoded first), so `/media` takes the path a player's
 * requests take: access state and small files from memory, segments from disk. Scenarios: a
 * rendition playlist, 360 KiB and 822 KiB segments, and a mix (playlist, init section and
 * 180 KiB–1.3 MiB segments of four renditions). Rounds alternate between the servers; medians
 * are reported with the ratios and the goals.
 *
 * Standalone: npx tsx bench/media.ts [seconds=10] [clients=50]   (run `npm run build` first)
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import fs from "node:fs/promises";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { resolveBinaries } from "@reelkit/transcoder";
import { signUp } from "../packages/server/test/factories.js";
import { ServerProcess } from "../packages/server/test/server-process.js";
import { fmt, verdict } from "./lib.js";
import { tusUpload } from "./upload.js";

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

export type MediaServerName = "reelkit" | "plain" | "nginx";

export interface MediaScenarioResult {
  name: string;
  runs: Partial<Record<MediaServerName, MediaRun>>;
}

export interface MediaResult {
  scenarios: MediaScenarioResult[];
  /** Why nginx was not measured; null when it was. */
  nginxSkipped: string | null;
  files: number;
  bytes: number;
}

/** What one rendition of a 20 s video looks like on disk: a playlist, an init segment, ten segments. */
const SEGMENT_SIZES = [180, 240, 320, 400, 520, 640, 760, 900, 1100, 1300].map((kib) => kib * 1024);

/** A rendition of synthetic segments in `videos/<id>/hls/<name>/` (the video's own directory). */
async function writeRendition(root: string, id: string, name: string): Promise<{ paths: string[]; bytes: number }> {
  const dir = path.join(root, "videos", id, "hls", name);
  await fs.mkdir(dir, { recursive: true });
  const lines = ["#EXTM3U", "#EXT-X-VERSION:7", "#EXT-X-TARGETDURATION:2", "#EXT-X-PLAYLIST-TYPE:VOD"];
  lines.push('#EXT-X-MAP:URI="init.mp4"');
  const prefix = `/media/videos/${id}/hls/${name}`;
  const paths = [`${prefix}/index.m3u8`, `${prefix}/init.mp4`];
  let bytes = 0;
  await fs.writeFile(path.join(dir, "init.mp4"), randomBytes(1200));
  bytes += 1200;
  for (const [i, size] of [...SEGMENT_SIZES, 360 * 1024, 822 * 1024].entries()) {
    const file = i < SEGMENT_SIZES.length ? `seg-${String(i).padStart(3, "0")}.m4s` : `seg-${size / 1024}k.m4s`;
    await fs.writeFile(path.join(dir, file), randomBytes(size));
    if (i >= SEGMENT_SIZES.length) continue;
    bytes += size;
    lines.push("#EXTINF:2.000000,", file);
    paths.push(`${prefix}/${file}`);
  }
  lines.push("#EXT-X-ENDLIST", "");
  const playlist = lines.join("\n");
  await fs.writeFile(path.join(dir, "index.m3u8"), playlist);
  bytes += playlist.length;
  return { paths, bytes };
}

/** A tiny clip through the server to READY: the video whose directory the renditions go into. */
async function readyVideo(base: string, dir: string): Promise<string> {
  const clip = path.join(dir, "clip.mp4");
  const ffmpeg = resolveBinaries({ ffmpegPath: null, ffprobePath: null }).ffmpeg;
  execFileSync(ffmpeg, [
    ...["-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25:duration=1"],
    ...["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", clip],
  ]);
  const user = await signUp(base);
  const id = await tusUpload(base, user.bearer, clip, Number.POSITIVE_INFINITY);
  for (let i = 0; i < 1200; i++) {
    const video = (await (await fetch(`${base}/api/videos/${id}`)).json()) as { status: string };
    if (video.status === "READY") return id;
    if (video.status === "FAILED") throw new Error("the bench clip failed to transcode");
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("the bench clip did not become READY in 2 minutes");
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Why nginx cannot be measured here, or null when it can. */
function nginxMissing(): string | null {
  const found = spawnSync("nginx", ["-v"], { stdio: "ignore" });
  return found.error ? "nginx is not on PATH (e.g. `apt-get install -y nginx` to compare)" : null;
}

/**
 * nginx serving `/media/` from the same directory with `sendfile on`, one worker process (the
 * Reelkit server is one process too), no access log.
 */
async function startNginx(root: string, dir: string): Promise<{ child: ChildProcess; base: string }> {
  const port = await freePort();
  const conf = path.join(dir, "nginx.conf");
  const temp = (name: string) => `${name}_temp_path ${path.join(dir, `${name}-temp`)};`;
  await fs.writeFile(
    conf,
    `${process.getuid?.() === 0 ? "user root;\n" : ""}worker_processes 1;
daemon off;
pid ${path.join(dir, "nginx.pid")};
error_log ${path.join(dir, "nginx-error.log")} warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  ${["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map(temp).join("\n  ")}
  types { application/vnd.apple.mpegurl m3u8; video/mp4 mp4; video/iso.segment m4s; }
  server {
    listen 127.0.0.1:${port};
    location /media/ { alias ${root}/; }
  }
}
`,
  );
  const child = spawn("nginx", ["-c", conf, "-p", dir], { stdio: ["ignore", "ignore", "inherit"], detached: true });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    const up = await fetch(`${base}/`).then(
      () => true,
      () => false,
    );
    if (up) return { child, base };
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill();
  throw new Error("nginx did not start");
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

async function load(base: string, paths: string[], opts: MediaOptions, pids: number[]): Promise<MediaRun> {
  // Every file answers 200 with its bytes before the load starts.
  for (const p of paths) {
    const res = await fetch(base + p);
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`GET ${base}${p} answered ${res.status}`);
  }
  await hammer(base, paths, 10, 1);
  const cpu = () => {
    let sum = 0;
    for (const pid of pids) {
      const ms = cpuMs(pid);
      if (ms === null) return null;
      sum += ms;
    }
    return sum;
  };
  const before = cpu();
  const run = await hammer(base, paths, opts.clients, opts.seconds);
  const after = cpu();
  const requests = run.rps * opts.seconds;
  run.cpuMsPerRequest = before === null || after === null || requests === 0 ? null : (after - before) / requests;
  return run;
}

/** nginx's worker: the child of its master process. */
function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
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
  const server = await ServerProcess.start({
    entry: "built",
    env: { PORT: "0", REELKIT_DATA_DIR: dataDir, REELKIT_DEMO_DIR: "", REELKIT_RUNGS: "180" },
  });
  const servers: { name: MediaServerName; base: string; pids: () => number[]; stop: () => void }[] = [];
  const nginxSkipped = nginxMissing();
  try {
    const id = await readyVideo(server.base, dataDir);
    const mix: string[] = [];
    let bytes = 0;
    for (const name of ["b1", "b2", "b3", "b4"]) {
      const rendition = await writeRendition(mediaRoot, id, name);
      mix.push(...rendition.paths);
      bytes += rendition.bytes;
    }
    const prefix = `/media/videos/${id}/hls/b1`;
    const scenarios: { name: string; paths: string[] }[] = [
      { name: "rendition playlist", paths: [`${prefix}/index.m3u8`] },
      { name: "segment 360 KiB", paths: [`${prefix}/seg-360k.m4s`] },
      { name: "segment 822 KiB", paths: [`${prefix}/seg-822k.m4s`] },
      { name: `mix of ${mix.length} files`, paths: mix },
    ];
    const plain = await startPlain(mediaRoot);
    servers.push({ name: "reelkit", base: server.base, pids: () => [server.pid], stop: () => {} });
    servers.push({
      name: "plain",
      base: plain.base,
      pids: () => [plain.child.pid as number],
      stop: () => plain.child.kill(),
    });
    if (!nginxSkipped) {
      const nginx = await startNginx(mediaRoot, dataDir);
      const master = nginx.child.pid as number;
      servers.push({
        name: "nginx",
        base: nginx.base,
        pids: () => [master, ...childPids(master)],
        stop: () => nginx.child.kill(),
      });
    }
    const results: MediaScenarioResult[] = [];
    for (const scenario of scenarios) {
      const runs = new Map<MediaServerName, MediaRun[]>();
      for (let round = 0; round < opts.rounds; round++) {
        for (const s of servers) {
          const run = await load(s.base, scenario.paths, opts, s.pids());
          runs.set(s.name, [...(runs.get(s.name) ?? []), run]);
        }
      }
      results.push({
        name: scenario.name,
        runs: Object.fromEntries([...runs].map(([name, r]) => [name, medianRun(r)])),
      });
    }
    return { scenarios: results, nginxSkipped, files: mix.length, bytes };
  } finally {
    for (const s of servers) s.stop();
    await server.stop();
    await server.destroy();
    await fs.rm(dataDir, { recursive: true, force: true });
  }
}

/** The issue's goals: `/media` against nginx with sendfile. */
const GOALS: Record<string, number> = {
  "rendition playlist": 0.3,
  "segment 360 KiB": 0.6,
  "segment 822 KiB": 0.6,
};

export function printMediaResult(r: MediaResult, opts: MediaOptions): void {
  console.log(
    `\n## Media delivery (local storage): ${opts.clients} clients, ${opts.seconds} s per run, median of ${opts.rounds} alternating rounds, load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
  );
  console.log(
    `mix: ${r.files} files (playlists, init sections and 180 KiB–1.3 MiB segments), ${fmt(r.bytes / 2 ** 20)} MiB`,
  );
  if (r.nginxSkipped) console.log(`(nginx column skipped: ${r.nginxSkipped})`);
  console.log("| scenario | server | req/s | MiB/s | p50 ms | p99 ms | errors | server CPU ms/req |");
  console.log("|---|---|---:|---:|---:|---:|---:|---:|");
  const label = {
    reelkit: "reelkit /media",
    plain: "plain node http + createReadStream",
    nginx: "nginx sendfile, 1 worker",
  };
  for (const scenario of r.scenarios) {
    for (const [name, run] of Object.entries(scenario.runs) as [MediaServerName, MediaRun][]) {
      console.log(
        `| ${scenario.name} | ${label[name]} | ${fmt(run.rps, 0)} | ${fmt(run.mibPerSecond)} | ${run.p50} | ${run.p99} | ${run.errors} | ${run.cpuMsPerRequest === null ? "—" : fmt(run.cpuMsPerRequest, 3)} |`,
      );
    }
  }
  for (const scenario of r.scenarios) {
    const { reelkit, plain, nginx } = scenario.runs;
    if (!reelkit) continue;
    const parts: string[] = [];
    if (plain) parts.push(`vs plain node ${fmt(reelkit.rps / plain.rps, 2)}×`);
    if (nginx) {
      const ratio = reelkit.rps / nginx.rps;
      const goal = GOALS[scenario.name];
      parts.push(
        `vs nginx ${fmt(ratio, 2)}×${goal === undefined ? "" : ` (goal ≥ ${goal}×: ${verdict(ratio >= goal)})`}` +
          (reelkit.cpuMsPerRequest && nginx.cpuMsPerRequest
            ? `, CPU per request nginx/reelkit ${fmt(nginx.cpuMsPerRequest / reelkit.cpuMsPerRequest, 2)}×`
            : ""),
      );
    } else if (GOALS[scenario.name] !== undefined) {
      parts.push(`goal vs nginx ≥ ${GOALS[scenario.name]}×: not measured`);
    }
    console.log(`${scenario.name}: ${parts.join("; ")}`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const opts = { seconds: Number(process.argv[2] ?? 10), clients: Number(process.argv[3] ?? 50), rounds: 3 };
  printMediaResult(await runMediaBench(opts), opts);
}
