/**
 * Webhook delivery latency: from a video's change (the event's `timestamp`, taken in the
 * transaction that writes it) to its receipt by a real HTTP receiver on this machine, through
 * the whole path — outbox, relay, bus, fan-out into the delivery log, signed POST. A real
 * `reelkit-server` (packages/server/dist/bin.js) on the embedded database, or on PostgreSQL when
 * a URL is given. Goal: p99 ≤ 1 s.
 * Standalone: npx tsx bench/webhooks.ts [events=300] [rate=20]
 */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { signUp, uploadAs } from "../packages/server/test/factories.js";
import { freePort, ServerProcess } from "../packages/server/test/server-process.js";
import { WebhookReceiver } from "../packages/server/test/webhook-receiver.js";
import { fmt, freshDatabase, verdict } from "./lib.js";

export interface WebhooksBenchOptions {
  /** Title changes made (one event each), spread over `videos` videos. */
  events: number;
  videos: number;
  /** Changes per second, paced. */
  rate: number;
  postgresUrl: string | null;
}

export interface WebhooksBenchResult {
  database: string;
  events: number;
  received: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

const GOAL_P99_MS = 1_000;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

async function runOne(opts: WebhooksBenchOptions, databaseUrl: string | null): Promise<WebhooksBenchResult> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "reelkit-bench-webhooks-"));
  const receiver = new WebhookReceiver();
  await receiver.up();
  // At log level warn there is no "Server listening" line: started once /healthz answers on `port`.
  const port = await freePort();
  const server = await ServerProcess.start({
    entry: "built",
    port,
    env: {
      PORT: String(port),
      REELKIT_DATA_DIR: dir,
      REELKIT_LOG_LEVEL: "warn",
      REELKIT_TRANSCODER: "off",
      REELKIT_WEBHOOK_ALLOW_PRIVATE: "true",
      ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    },
    startTimeoutMs: 300_000,
  });
  try {
    const user = await signUp(server.base);
    const headers = { ...user.bearer, "content-type": "application/json" };
    const res = await fetch(`${server.base}/api/webhooks`, {
      method: "POST",
      headers,
      body: JSON.stringify({ url: receiver.url, events: ["video.updated"] }),
    });
    if (res.status !== 201) throw new Error(`registering the endpoint failed: ${res.status}`);
    const videos: string[] = [];
    for (let i = 0; i < opts.videos; i++)
      videos.push(await uploadAs(server.base, user.bearer, { filename: `v${i}.mp4` }));

    const started = Date.now();
    const pending: Promise<unknown>[] = [];
    for (let i = 0; i < opts.events; i++) {
      const due = started + (i * 1000) / opts.rate;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const id = videos[i % videos.length] as string;
      pending.push(
        fetch(`${server.base}/api/videos/${id}`, {
          method: "PATCH",
          headers,
          body: JSON.stringify({ title: `title ${i}` }),
        }),
      );
    }
    await Promise.all(pending);
    const deadline = Date.now() + 60_000;
    while (receiver.acceptedIds().length < opts.events && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    const latencies: number[] = [];
    const seen = new Set<string>();
    for (const r of receiver.received) {
      if (seen.has(r.id)) continue;
      seen.add(r.id);
      const body = JSON.parse(r.body) as { type: string; timestamp: string };
      if (body.type === "video.updated") latencies.push(r.receivedAt - Date.parse(body.timestamp));
    }
    latencies.sort((a, b) => a - b);
    return {
      database: databaseUrl ? "PostgreSQL" : "embedded PostgreSQL",
      events: opts.events,
      received: latencies.length,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      maxMs: latencies.at(-1) ?? Number.NaN,
    };
  } finally {
    await server.destroy();
    await receiver.down();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

export async function runWebhooksBench(opts: WebhooksBenchOptions): Promise<WebhooksBenchResult[]> {
  const results: WebhooksBenchResult[] = [];
  if (opts.postgresUrl) {
    const db = await freshDatabase(opts.postgresUrl);
    try {
      results.push(await runOne(opts, db.url));
    } finally {
      await db.drop();
    }
  }
  results.push(await runOne(opts, null));
  return results;
}

export function printWebhooksResult(opts: WebhooksBenchOptions, results: WebhooksBenchResult[]): void {
  console.log(
    `\nwebhooks: ${opts.events} title changes over ${opts.videos} videos at ${opts.rate}/s, latency from the event to its receipt`,
  );
  for (const r of results) {
    console.log(
      `  ${r.database.padEnd(20)} received ${r.received}/${r.events}  p50 ${fmt(r.p50Ms, 0)} ms  p99 ${fmt(r.p99Ms, 0)} ms  ` +
        `max ${fmt(r.maxMs, 0)} ms  goal p99 ≤ ${GOAL_P99_MS} ms: ${verdict(r.received === r.events && r.p99Ms <= GOAL_P99_MS)}`,
    );
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const opts = {
    events: Number(process.argv[2] ?? 300),
    videos: 10,
    rate: Number(process.argv[3] ?? 20),
    postgresUrl: process.env.DATABASE_URL_TEST ?? null,
  };
  printWebhooksResult(opts, await runWebhooksBench(opts));
}
