/**
 * `npm run bench`: the benchmarks with their figures and the expectations. Figures are printed,
 * never asserted.
 *
 *   npm run bench                              1 GiB upload, catalog read load, 30 s 1080p30 transcode
 *   npm run bench -- --upload-mib 256 --seconds 10 --height 720    a quicker run
 *   npm run bench -- --only upload             (or --only read-load, --only media, --only instant, --only transcode, --only s3,
 *                                              --only transcoders)
 *   npm run bench -- --only burst              8 × 20 s 720p uploads at once + one from another user: time to playable
 *                                              and to the last READY, embedded and with 2 transcoders on Kafka (KAFKA_BROKERS_TEST)

 *   npm run bench -- --only catalog            1M-video catalog (seeded once, kept), not in the default run
 *   npm run bench -- --only webhooks           webhook delivery latency from the event to its receipt (p50/p99, goal p99 ≤ 1 s)
 *   npm run bench -- --only bundle             the kit's browser cost in gzip KiB (--kit-root DIR: another checkout)
 *
 * Options: --upload-mib N (1024), --rounds N (3, median reported; upload and read load), --chunk-mib N (tus client chunk
 * size; default: one PATCH, tus-js-client's default), --seconds N (30), --height N (1080),
 * --source light|camera|both (how the generated source is encoded: x264 ultrafast, cheapest to
 * decode; or High profile + B-frames at 15 Mbit/s like a phone file; default both, camera first),
 * --instant-seconds N (60: the clips of the time-to-playable benchmark),
 * --no-build (use the existing packages/server/dist), --postgres URL (default DATABASE_URL_TEST;
 * start one with `eval "$(scripts/engines.sh start)"`; `--postgres off` skips it), --clients N (50,
 * read load and media), --read-seconds N (15, read load), --media-seconds N (10 per round, media delivery), --s3-mib N (1024: the S3 upload; the S3 benchmarks
 * run when S3_ENDPOINT_TEST is set, `eval "$(scripts/engines.sh start s3)"`).
 * Transcoders (jobs per minute with one vs two reelkit-transcoder processes; needs KAFKA_BROKERS_TEST
 * and PostgreSQL): --jobs N (8 per run), --job-seconds N (10: each clip's length).
 * Catalog: --catalog-rows N (1000000, PostgreSQL), --catalog-embedded-rows N (100000, the embedded
 * database), --catalog-seconds N (10 per scenario), --clients N (50), --reseed (seed again even when
 * the kept bench database already holds the catalog), --catalog-scenarios A,B (only the scenarios whose
 * names contain A or B, e.g. "list, first,suggestions").
 */
import { execFileSync } from "node:child_process";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { REPO_ROOT } from "../packages/server/test/server-process.js";
import { printBundleResult, runBundleBench } from "./bundle.js";
import { printBurstResult, runBurstBench } from "./burst.js";
import { printCatalogResult, runCatalogBench } from "./catalog.js";
import { printInstantResult, runInstantBench } from "./instant.js";
import { printMediaResult, runMediaBench } from "./media.js";
import { printReadLoadResult, runReadLoadBench } from "./read-load.js";
import { printS3TranscodeResult, printS3UploadResult, runS3TranscodeBench, runS3UploadBench } from "./s3.js";
import { printTranscodeResult, runTranscodeBench } from "./transcode.js";
import { printTranscodersResult, runTranscodersBench } from "./transcoders.js";
import { printUploadResult, runUploadBench } from "./upload.js";
import { printWebhooksResult, runWebhooksBench } from "./webhooks.js";

const { values } = parseArgs({
  options: {
    only: { type: "string" },
    "upload-mib": { type: "string", default: "1024" },
    rounds: { type: "string", default: "3" },
    "chunk-mib": { type: "string" },
    seconds: { type: "string", default: "30" },
    height: { type: "string", default: "1080" },
    source: { type: "string", default: "both" },
    "instant-seconds": { type: "string", default: "60" },
    "no-build": { type: "boolean", default: false },
    postgres: { type: "string" },
    "catalog-rows": { type: "string", default: "1000000" },
    "catalog-embedded-rows": { type: "string", default: "100000" },
    "catalog-seconds": { type: "string", default: "10" },
    "catalog-scenarios": { type: "string" },
    reseed: { type: "boolean", default: false },
    clients: { type: "string", default: "50" },
    "read-seconds": { type: "string", default: "15" },
    "media-seconds": { type: "string", default: "10" },
    "s3-mib": { type: "string", default: "1024" },
    jobs: { type: "string", default: "8" },
    "job-seconds": { type: "string", default: "10" },
    "kit-root": { type: "string" },
  },
});

function positive(name: string, raw: string | undefined): number {
  const n = Number(raw);
  if (!(n > 0)) throw new Error(`--${name} must be a positive number, got ${raw}`);
  return n;
}

const BENCHES = [
  "upload",
  "read-load",
  "media",
  "instant",
  "transcode",
  "s3",
  "transcoders",
  "burst",
  "catalog",
  "bundle",
  "webhooks",
] as const;
const only = values.only;
if (only !== undefined && !(BENCHES as readonly string[]).includes(only)) {
  throw new Error(`--only must be one of ${BENCHES.join(", ")}, got ${only}`);
}
// The catalog benchmark seeds a million rows, the burst one encodes for minutes: they run only when asked for.
const runs = (name: (typeof BENCHES)[number]) =>
  (only === undefined && name !== "catalog" && name !== "burst") || only === name;
const postgresFlag = values.postgres ?? process.env.DATABASE_URL_TEST ?? null;
const postgresUrl = postgresFlag === "off" ? null : postgresFlag;

console.log(
  `reelkit bench on ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? "?"}), node ${process.version}, ` +
    `load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
);

const builds = [
  "upload",
  "read-load",
  "media",
  "instant",
  "s3",
  "transcoders",
  "burst",
  "catalog",
  "webhooks",
] as const;
if (builds.some((name) => runs(name)) && !values["no-build"]) {
  console.log("building the server packages (the benchmarks run packages/server/dist/bin.js) ...");
  for (const workspace of ["@reelkit/core", "@reelkit/sdk", "@reelkit/transcoder", "@reelkit/server"]) {
    execFileSync("npm", ["run", "build", "--workspace", workspace], { cwd: REPO_ROOT, stdio: "ignore" });
  }
}

if (runs("bundle")) {
  const kitRoot = values["kit-root"] ? path.resolve(values["kit-root"]) : REPO_ROOT;
  if (!values["no-build"] && !values["kit-root"]) {
    console.log("building the browser packages (the bundle is made from their dist/) ...");
    for (const workspace of ["@reelkit/sdk", "@reelkit/react"]) {
      execFileSync("npm", ["run", "build", "--workspace", workspace], { cwd: REPO_ROOT, stdio: "ignore" });
    }
  }
  printBundleResult(await runBundleBench({ kitRoot }), kitRoot);
}

if (runs("catalog")) {
  const results = await runCatalogBench({
    postgresUrl,
    postgresRows: positive("catalog-rows", values["catalog-rows"]),
    embeddedRows: positive("catalog-embedded-rows", values["catalog-embedded-rows"]),
    seconds: positive("catalog-seconds", values["catalog-seconds"]),
    connections: positive("clients", values.clients),
    reseed: values.reseed ?? false,
    scenarios: values["catalog-scenarios"],
  });
  printCatalogResult(results);
}

if (runs("upload")) {
  const opts = {
    mib: positive("upload-mib", values["upload-mib"]),
    rounds: positive("rounds", values.rounds),
    chunkMib: values["chunk-mib"] ? positive("chunk-mib", values["chunk-mib"]) : Number.POSITIVE_INFINITY,
    postgresUrl,
  };
  const result = await runUploadBench(opts);
  printUploadResult(opts, result);
  if (!postgresUrl) {
    console.log('(PostgreSQL run skipped: set DATABASE_URL_TEST, e.g. eval "$(scripts/engines.sh start)")');
  }
}

if (runs("read-load")) {
  const opts = {
    clients: positive("clients", values.clients),
    seconds: positive("read-seconds", values["read-seconds"]),
    videos: 300,
    rounds: positive("rounds", values.rounds),
    postgresUrl,
  };
  printReadLoadResult(opts, await runReadLoadBench(opts));
  if (!postgresUrl) console.log("(PostgreSQL run skipped: set DATABASE_URL_TEST to compare)");
}

if (runs("media")) {
  const opts = {
    clients: positive("clients", values.clients),
    seconds: positive("media-seconds", values["media-seconds"]),
    rounds: positive("rounds", values.rounds),
  };
  printMediaResult(await runMediaBench(opts), opts);
}

if (runs("instant")) {
  printInstantResult(await runInstantBench({ seconds: positive("instant-seconds", values["instant-seconds"]) }));
}

if (runs("s3")) {
  if (!process.env.S3_ENDPOINT_TEST) {
    console.log(
      '\n(S3 benchmarks skipped: set S3_ENDPOINT_TEST and the AWS credentials, e.g. eval "$(scripts/engines.sh start s3)")',
    );
  } else {
    const opts = { mib: positive("s3-mib", values["s3-mib"]), rounds: positive("rounds", values.rounds) };
    printS3UploadResult(opts, await runS3UploadBench(opts));
    const seconds = positive("seconds", values.seconds);
    printS3TranscodeResult(
      await runS3TranscodeBench({ seconds: [Math.max(5, Math.round(seconds / 3)), seconds], height: 720 }),
    );
  }
}

if (runs("transcode")) {
  // Both sources by default: a phone file costs far more to decode than lavfi's test pattern, and
  // decoding once for every rung is where one process wins; printing both shows the range.
  const sources = values.source === "both" ? (["camera", "light"] as const) : [values.source];
  for (const source of sources) {
    if (source !== "light" && source !== "camera") {
      throw new Error(`--source must be light, camera or both, got ${source}`);
    }
    const result = await runTranscodeBench({
      seconds: positive("seconds", values.seconds),
      height: positive("height", values.height),
      source,
    });
    printTranscodeResult(result);
  }
}

if (runs("burst")) {
  const brokers = process.env.DATABASE_URL_TEST
    ? (process.env.KAFKA_BROKERS_TEST ?? "").split(",").filter(Boolean)
    : [];
  if (brokers.length === 0) console.log("\n(burst on Kafka skipped: set KAFKA_BROKERS_TEST and DATABASE_URL_TEST)");
  const opts = { burst: 8, seconds: 20, height: 720, brokers };
  // Each run printed as it ends.
  await runBurstBench({ ...opts, onRun: (run) => printBurstResult(opts, [run]) });
}

if (runs("transcoders")) {
  const brokers = (process.env.KAFKA_BROKERS_TEST ?? "").split(",").filter(Boolean);
  if (brokers.length === 0 || !process.env.DATABASE_URL_TEST) {
    console.log(
      '\n(transcoder scale-out benchmark skipped: set KAFKA_BROKERS_TEST and DATABASE_URL_TEST, e.g. eval "$(scripts/engines.sh start)")',
    );
  } else {
    const opts = {
      jobs: positive("jobs", values.jobs),
      seconds: positive("job-seconds", values["job-seconds"]),
      brokers,
    };
    printTranscodersResult(opts, await runTranscodersBench(opts));
  }
}

if (runs("webhooks")) {
  const opts = { events: 300, videos: 10, rate: 20, postgresUrl };
  printWebhooksResult(opts, await runWebhooksBench(opts));
}
