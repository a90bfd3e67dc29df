/**
 * Where the server's CPU goes during one tus upload: the BUILT server (embedded mode, transcoder
 * off) runs with `--cpu-prof` and V8's `--trace-gc`; after an untimed warm-up upload, one upload of
 * N MiB is measured. Prints throughput, server CPU per MiB, the full (mark-compact) and young
 * collections during that upload, and the profile's self time by module and by function within
 * that upload's window. The .cpuprofile stays in the output directory (Chrome DevTools opens it).
 *
 *   npx tsx bench/profile-upload.ts [MiB=256] [out=./upload-profile] [--s3]   (run `npm run build` first)
 *
 * With `--s3` the server stores into a new bucket of the S3 server of the tests (S3_ENDPOINT_TEST
 * and the AWS credentials, `eval "$(scripts/engines.sh start s3)"`): @tus/s3-store's multipart path.
 */
import { readdirSync, readFileSync } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { signUp } from "../packages/server/test/factories.js";
import { ServerProcess } from "../packages/server/test/server-process.js";
import { s3TestEngine } from "../test/engines.js";
import { createTestBucket, type TestBucket } from "../test/s3.js";
import { processCpu } from "./lib.js";
import { tusUpload } from "./upload.js";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Self time (ms) by module and by function of the samples between `from` and `to` (µs, monotonic). */
function summarize(profile: CpuProfile, from: number, to: number, top: number): void {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const byFunction = new Map<string, number>();
  const byModule = new Map<string, number>();
  let at = profile.startTime;
  let total = 0;
  const add = (m: Map<string, number>, k: string, t: number) => m.set(k, (m.get(k) ?? 0) + t);
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (at < from || at > to) continue;
    const frame = byId.get(profile.samples[i] as number)?.callFrame;
    if (!frame) continue;
    total += delta;
    const url = frame.url.replace(/^.*node_modules\//, "").replace(/^file:\/\/.*\/packages\//, "");
    add(byFunction, `${frame.functionName || "(anonymous)"} ${url}:${frame.lineNumber}`, delta);
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(frame.url)?.[1];
    add(
      byModule,
      frame.url === "" ? frame.functionName : (pkg ?? (frame.url.includes("/packages/") ? "reelkit" : frame.url)),
      delta,
    );
  }
  const ms = (t: number) => (t / 1000).toFixed(0).padStart(6);
  console.log(`profile: ${ms(total)} ms sampled during the upload`);
  console.log("self time by module (ms)");
  for (const [k, t] of [...byModule].sort((a, b) => b[1] - a[1]).slice(0, 12)) console.log(ms(t), k);
  console.log("self time by function (ms)");
  for (const [k, t] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(ms(t), k);
}

const args = process.argv.slice(2).filter((a) => !a.startsWith("--"));
const mib = Number(args[0] ?? 256);
const out = path.resolve(args[1] ?? "upload-profile");
let bucket: TestBucket | null = null;
if (process.argv.includes("--s3")) {
  const { engine, missing } = s3TestEngine();
  if (!engine) throw new Error(`--s3 needs an S3 server: ${missing}`);
  bucket = await createTestBucket(engine, "reelkit-profile");
}
await fs.mkdir(out, { recursive: true });
const dir = await fs.mkdtemp(path.join(os.tmpdir(), "reelkit-upload-profile-"));
try {
  const file = path.join(dir, "input.bin");
  const block = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < block.length; i++) block[i] = (Math.random() * 256) | 0;
  const handle = await fs.open(file, "w");
  for (let i = 0; i < mib; i++) await handle.write(block);
  await handle.close();
  // --trace-gc is not allowed in NODE_OPTIONS; a preloaded script turns it on instead.
  const traceGc = path.join(dir, "trace-gc.cjs");
  await fs.writeFile(traceGc, 'require("node:v8").setFlagsFromString("--trace-gc");\n');
  const log: string[] = [];
  const server = await ServerProcess.start({
    entry: "built",
    onLog: (line) => log.push(line),
    env: {
      PORT: "0",
      REELKIT_DATA_DIR: path.join(dir, "data"),
      REELKIT_TRANSCODER: "off",
      REELKIT_MAX_UPLOAD_SIZE: `${mib + 1}MiB`,
      ...bucket?.env,
      NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${out} --require ${traceGc} ${process.env.PROFILE_NODE_OPTIONS ?? ""}`,
    },
  });
  const auth = (await signUp(server.base)).bearer;
  await tusUpload(server.base, auth, file, Number.POSITIVE_INFINITY);
  const before = log.length;
  const cpu0 = processCpu(server.pid);
  // V8 profiles are timed on the monotonic clock, as hrtime is.
  const from = Number(process.hrtime.bigint() / 1000n);
  const t0 = performance.now();
  await tusUpload(server.base, auth, file, Number.POSITIVE_INFINITY);
  const wall = (performance.now() - t0) / 1000;
  const to = Number(process.hrtime.bigint() / 1000n);
  const cpu = processCpu(server.pid) - cpu0;
  const gcLines = log.slice(before);
  const full = gcLines.filter((l) => /Mark-Compact/.test(l)).length;
  const young = gcLines.filter((l) => /Scavenge|Minor Mark/.test(l)).length;
  console.log(
    `upload of ${mib} MiB${bucket ? " into S3" : ""}: ${((mib * 1.048576) / wall).toFixed(0)} MB/s, server CPU ${cpu.toFixed(2)} s ` +
      `(${((cpu * 1000) / mib).toFixed(2)} ms/MiB), full collections ${full}, young ${young}, load average ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(" ")}`,
  );
  await server.stop();
  const name = readdirSync(out)
    .filter((f) => f.endsWith(".cpuprofile"))
    .sort()
    .at(-1);
  if (name) summarize(JSON.parse(readFileSync(path.join(out, name), "utf8")) as CpuProfile, from, to, 20);
} finally {
  await bucket?.drop();
  await fs.rm(dir, { recursive: true, force: true });
}
