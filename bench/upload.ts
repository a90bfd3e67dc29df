/**
 * Upload throughput: a file through tus (the real server, embedded mode, in a child process) vs a
 * raw streaming HTTP PUT to the same disk (a minimal node:http server, also a child process).
 * Usage: npx tsx bench/upload.ts [MiB=1024]
 * Prints MB/s of each, the ratio (expect >= 0.9) and each server's peak RSS (expect <= 150 MB:
 * the upload is streamed to disk, never buffered).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createReadStream, readFileSync } from "node:fs";
import fs from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import * as tus from "tus-js-client";

const mib = Number(process.argv[2] ?? 1024);
const size = mib * 1024 * 1024;
const root = path.resolve(import.meta.dirname, "..");

function rssMb(pid: number, field: "VmRSS" | "VmHWM" = "VmRSS"): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").match(new RegExp(`${field}:\\s+(\\d+) kB`));
  return line ? Number(line[1]) / 1024 : Number.NaN;
}

/** Samples a process's RSS while `work` runs: RSS before, and the highest sample during. */
async function sampleRss(pid: number, work: () => Promise<void>): Promise<{ before: number; peak: number }> {
  const before = rssMb(pid);
  let peak = before;
  const timer = setInterval(() => {
    peak = Math.max(peak, rssMb(pid));
  }, 20);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  return { before, peak: Math.max(peak, rssMb(pid)) };
}

async function waitUp(url: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    try {
      await fetch(url);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`${url} did not answer`);
}

function startChild(args: string[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, args, {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ["ignore", "ignore", "inherit"],
  });
}

const RAW_SERVER = `
const http = require("node:http"), fs = require("node:fs"), path = require("node:path");
http.createServer((req, res) => {
  if (req.method !== "PUT") { res.writeHead(200); res.end("ok"); return; }
  const out = fs.createWriteStream(path.join(process.env.DIR, "raw-upload"));
  req.pipe(out);
  out.on("finish", () => { res.writeHead(204); res.end(); });
}).listen(Number(process.env.PORT), "127.0.0.1");
`;

const dir = await fs.mkdtemp(path.join(os.tmpdir(), "reelkit-upload-bench-"));
const file = path.join(dir, "input.bin");
const children: ChildProcess[] = [];
try {
  // Incompressible-ish data: a 1 MiB random block repeated.
  const block = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < block.length; i++) block[i] = (Math.random() * 256) | 0;
  const handle = await fs.open(file, "w");
  for (let i = 0; i < mib; i++) await handle.write(block);
  await handle.close();

  const rawPort = 39_000 + Math.floor(Math.random() * 500);
  const raw = startChild(["-e", RAW_SERVER], { PORT: String(rawPort), DIR: dir });
  children.push(raw);
  await waitUp(`http://127.0.0.1:${rawPort}/`);
  let t0 = performance.now();
  const rawRss = await sampleRss(
    raw.pid as number,
    () =>
      new Promise<void>((resolve, reject) => {
        const req = http.request(
          { host: "127.0.0.1", port: rawPort, method: "PUT", path: "/", headers: { "content-length": size } },
          (res) => (res.statusCode === 204 ? resolve() : reject(new Error(`PUT ${res.statusCode}`))),
        );
        req.on("error", reject);
        createReadStream(file).pipe(req);
      }),
  );
  const rawSeconds = (performance.now() - t0) / 1000;

  const port = rawPort + 1;
  const server = startChild(["--import", "tsx", "packages/server/src/bin.ts"], {
    PORT: String(port),
    HOST: "127.0.0.1",
    REELKIT_DATA_DIR: path.join(dir, "data"),
    REELKIT_LOG_LEVEL: "warn",
  });
  children.push(server);
  await waitUp(`http://127.0.0.1:${port}/healthz`);
  t0 = performance.now();
  const tusRss = await sampleRss(
    server.pid as number,
    () =>
      new Promise<void>((resolve, reject) => {
        const upload = new tus.Upload(createReadStream(file), {
          endpoint: `http://127.0.0.1:${port}/api/uploads`,
          uploadSize: size,
          chunkSize: 64 * 1024 * 1024,
          retryDelays: [],
          metadata: { filename: "input.bin", title: "bench" },
          onError: reject,
          onSuccess: () => resolve(),
        });
        upload.start();
      }),
  );
  const tusSeconds = (performance.now() - t0) / 1000;

  const mbps = (s: number) => size / 1e6 / s;
  console.log(`upload of ${mib} MiB over loopback`);
  const rss = (r: { before: number; peak: number }) =>
    `server RSS ${r.before.toFixed(0)} MB before, peak ${r.peak.toFixed(0)} MB during (+${(r.peak - r.before).toFixed(0)} MB)`;
  console.log(`raw PUT   ${mbps(rawSeconds).toFixed(1)} MB/s   ${rss(rawRss)}`);
  console.log(`tus       ${mbps(tusSeconds).toFixed(1)} MB/s   ${rss(tusRss)}`);
  console.log(`ratio tus/raw ${(rawSeconds / tusSeconds).toFixed(2)} (expect >= 0.9); peak RSS expect <= 150 MB`);
} finally {
  for (const c of children) c.kill("SIGTERM");
  await new Promise((r) => setTimeout(r, 500));
  await fs.rm(dir, { recursive: true, force: true });
}
