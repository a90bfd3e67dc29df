/**
 * Catalog at scale: the BUILT server (packages/server/dist/bin.js) over a seeded catalog —
 * 1,000,000 READY videos in PostgreSQL and 100,000 in the embedded database — under autocannon load: list
 * (first page, page 500), get by random id, search (common word, rare word, two-word phrase,
 * one typo, no match), a filtered search and suggestions (random prefixes of real titles), each at
 * 50 connections; get also at 10.
 *
 * Seeding is set-based SQL (generate_series over word lists) and done once: the PostgreSQL
 * database `reelkit_bench_catalog` on the DATABASE_URL_TEST server and the embedded database's
 * data directory in the OS temp dir are reused while their seed marker matches (`--reseed` forces a new seed).
 */
import { existsSync } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import autocannon from "autocannon";
import pg from "pg";
import { openDatabase } from "../packages/server/src/db/database.js";
import { freePort, ServerProcess } from "../packages/server/test/server-process.js";
import { fmt, verdict } from "./lib.js";

export interface CatalogBenchOptions {
  postgresUrl: string | null;
  /** Videos seeded into PostgreSQL / the embedded database. */
  postgresRows: number;
  embeddedRows: number;
  /** Seconds of load per scenario. */
  seconds: number;
  connections: number;
  reseed: boolean;
  /** Only the scenarios whose name contains one of these comma-separated parts (all when absent). */
  scenarios?: string;
}

export interface ScenarioResult {
  name: string;
  connections: number;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}

export interface CatalogBenchResult {
  engine: "postgres" | "embedded";
  rows: number;
  seedSeconds: number | null;
  scenarios: ScenarioResult[];
}

const SEED_VERSION = "v2";
const marker = (rows: number) => `reelkit bench seed ${SEED_VERSION}: ${rows} READY videos`;

// Word lists for titles and descriptions. Picks are skewed (power of random()) so early words
// are common and late ones rare, as in real catalogues.
const OPENERS = [
  "How to make",
  "The best",
  "My first",
  "Easy",
  "Quick",
  "Ultimate guide to",
  "Why I love",
  "Top 10",
  "Beginner",
  "Advanced",
  "Relaxing",
  "Epic",
  "Homemade",
  "Live",
  "Classic",
  "Hidden",
  "Budget",
  "Weekend",
  "Morning",
  "Late night",
];
const SUBJECTS = [
  "pasta",
  "street food",
  "guitar",
  "piano",
  "football",
  "coffee",
  "sourdough bread",
  "yoga",
  "camping",
  "photography",
  "chess",
  "skateboarding",
  "watercolor painting",
  "home workout",
  "woodworking",
  "gardening",
  "ramen",
  "surfing",
  "drone footage",
  "city walk",
  "mountain biking",
  "sushi",
  "drumming",
  "knitting",
  "bouldering",
  "tea ceremony",
  "origami",
  "calligraphy",
  "fly fishing",
  "beekeeping",
  "pottery",
  "sailing",
  "birdwatching",
  "ice climbing",
  "harpsichord",
  "glassblowing",
  "falconry",
  "bookbinding",
  "taxidermy",
  "lacemaking",
];
const FORMATS = [
  "tutorial",
  "recipe",
  "vlog",
  "review",
  "compilation",
  "highlights",
  "lesson",
  "documentary",
  "challenge",
  "walkthrough",
  "tips",
  "livestream",
  "explained",
  "unboxing",
  "travel diary",
];
const PLACES = [
  "in Lisbon",
  "in Tokyo",
  "for beginners",
  "at home",
  "in the mountains",
  "on a budget",
  "in 10 minutes",
  "with friends",
  "in Bangkok",
  "in the rain",
  "part 2",
  "2026",
  "in Reykjavik",
  "at sunrise",
  "under water",
];
const SENTENCES = [
  "We try something new today and it goes better than expected.",
  "Everything you need to know, step by step.",
  "Filmed on a phone, edited the same night.",
  "Thanks for watching, more videos every week.",
  "Music by a friend of the channel.",
  "A calm video to watch with a cup of tea.",
  "Questions are answered at the end.",
  "Shot in 4K with natural light.",
  "This took three attempts to get right.",
  "The full recipe and gear list are below.",
];
const TAGS = [
  "food",
  "music",
  "sport",
  "travel",
  "howto",
  "diy",
  "nature",
  "art",
  "fitness",
  "gaming",
  "science",
  "comedy",
];

const sqlArray = (words: string[]) => `ARRAY[${words.map((w) => `'${w.replace(/'/g, "''")}'`).join(",")}]::text[]`;

/** Inserts videos [from, from + count): one INSERT … SELECT FROM generate_series. */
function seedBatchSql(from: number, count: number): string {
  const pick = (list: string, exp: number) =>
    `(${list})[1 + floor(power(random(), ${exp}) * array_length(${list}, 1))::int]`;
  const openers = sqlArray(OPENERS);
  const subjects = sqlArray(SUBJECTS);
  const formats = sqlArray(FORMATS);
  const places = sqlArray(PLACES);
  const sentences = sqlArray(SENTENCES);
  const tags = sqlArray(TAGS);
  return `
    INSERT INTO "video" ("id", "title", "description", "filename", "status", "progress", "attempt",
      "duration", "width", "height", "frame_rate", "master_key", "poster_key", "created_at", "updated_at",
      "published_at", "tags", "view_count")
    SELECT id, title, description, 'clip.mp4', 'READY', 100, 1, duration,
           (height * 16 / 9) / 2 * 2, height, 30,
           'videos/' || id || '/hls/master.m3u8', 'videos/' || id || '/poster.jpg', at, at, at, tags, views
      FROM (
        SELECT gen_random_uuid() AS id,
               ${pick(openers, 1)} || ' ' || ${pick(subjects, 2.5)} || ' ' || ${pick(formats, 1.5)} || ' ' || ${pick(places, 1)}
                 -- A rare word: about 1 title in 2,000.
                 || CASE WHEN random() < 0.0005 THEN ' with a zither' ELSE '' END AS title,
               ${pick(sentences, 1)} || ' ' || ${pick(subjects, 2)} || ' ' || ${pick(formats, 1)} || '. ' || ${pick(sentences, 1)} AS description,
               round((20 + power(random(), 3) * 3600)::numeric, 2)::float8 AS duration,
               (ARRAY[360, 480, 720, 1080, 2160])[1 + floor(power(random(), 0.7) * 5)::int] AS height,
               ARRAY[${pick(tags, 1.5)}, ${pick(tags, 1)}] AS tags,
               floor(power(random(), 6) * 5000000)::bigint AS views,
               now() - make_interval(secs => (g * 90 + floor(random() * 60))::float8) AS at
          FROM generate_series(${from}, ${from + count - 1}) g
      ) s`;
}

interface SqlClient {
  query(sql: string): Promise<{ rows: Record<string, unknown>[] }>;
}

async function seeded(client: SqlClient, rows: number): Promise<boolean> {
  const res = await client.query(`SELECT obj_description('"video"'::regclass, 'pg_class') AS note`);
  return res.rows[0]?.note === marker(rows);
}

async function seed(client: SqlClient, rows: number, log: (s: string) => void): Promise<void> {
  await client.query(`TRUNCATE "video", "outbox"`);
  const batch = 50_000;
  for (let from = 0; from < rows; from += batch) {
    await client.query(seedBatchSql(from, Math.min(batch, rows - from)));
    log(`  seeded ${Math.min(from + batch, rows)} / ${rows}`);
  }
  await client.query(`VACUUM ANALYZE "video"`);
  await client.query(`COMMENT ON TABLE "video" IS '${marker(rows)}'`);
}

/** The PostgreSQL bench database (created when missing) with `rows` videos; returns its URL and seed time. */
async function preparePostgres(base: string, rows: number, reseed: boolean) {
  const name = "reelkit_bench_catalog";
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  const exists = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
  if (exists.rowCount === 0) await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const url = new URL(base);
  url.pathname = `/${name}`;
  // Migrate through the server's own code, then seed over a plain connection.
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "reelkit-bench-catalog-"));
  const db = await openDatabase({ dataDir, databaseUrl: url.toString() });
  await db.close();
  await fs.rm(dataDir, { recursive: true, force: true });
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  let seedSeconds: number | null = null;
  try {
    if (reseed || !(await seeded(client, rows))) {
      console.log(`seeding ${rows} videos into PostgreSQL database ${name} (once; reused by later runs) ...`);
      const t0 = performance.now();
      await seed(client, rows, console.log);
      seedSeconds = (performance.now() - t0) / 1000;
    }
  } finally {
    await client.end();
  }
  // Random ids and titles from the whole table (about 10,000), for "get by random id" and the
  // typeahead's prefixes.
  const sample = new pg.Client({ connectionString: url.toString() });
  await sample.connect();
  const picked = (
    await sample.query<{ id: string; title: string }>(
      `SELECT id::text AS id, title FROM "video" TABLESAMPLE SYSTEM (1) LIMIT 10000`,
    )
  ).rows;
  await sample.end();
  return { url: url.toString(), seedSeconds, ids: picked.map((r) => r.id), titles: picked.map((r) => r.title) };
}

/** An embedded-database data directory with `rows` videos (kept in the OS temp dir between runs). */
async function prepareEmbedded(rows: number, reseed: boolean) {
  const dataDir = path.join(os.tmpdir(), `reelkit-bench-catalog-embedded-${rows}`);
  if (reseed) await fs.rm(dataDir, { recursive: true, force: true });
  const db = await openDatabase({ dataDir, databaseUrl: null });
  let seedSeconds: number | null = null;
  try {
    const client: SqlClient = {
      query: async (sql) => ({ rows: await db.prisma.$queryRawUnsafe<Record<string, unknown>[]>(sql) }),
    };
    if (!(await seeded(client, rows))) {
      console.log(`seeding ${rows} videos into the embedded database at ${dataDir} (once; reused by later runs) ...`);
      const t0 = performance.now();
      await seed(client, rows, console.log);
      seedSeconds = (performance.now() - t0) / 1000;
    }
  } finally {
    await db.close();
  }
  return { dataDir, seedSeconds };
}

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

interface Scenario {
  name: string;
  connections: number;
  /** A path per request (random ids, prefixes). */
  path: () => string;
}

async function runScenario(base: string, s: Scenario, seconds: number): Promise<ScenarioResult> {
  const result = await autocannon({
    url: base,
    connections: s.connections,
    duration: seconds,
    requests: [
      {
        setupRequest: (req) => {
          req.path = s.path();
          return req;
        },
      },
    ],
  });
  return {
    name: s.name,
    connections: s.connections,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
}

/** Waits (at most 60 s) until `/readyz`, which queries the database, answers within 200 ms. */
async function drain(base: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const t0 = performance.now();
    const ok = await fetch(`${base}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok && performance.now() - t0 < 200) return;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** What the suggestions scenario asked of the typeahead before it had an index and a cache (req/s at 50 clients). */
const SUGGESTIONS_BASELINE = { low: 86, high: 117 };

/** A random prefix (1 character to the whole title) of a random real title, as typed into a search box. */
function randomPrefix(titles: string[]): string {
  const title = titles[Math.floor(Math.random() * titles.length)] ?? "a";
  return title.slice(0, 1 + Math.floor(Math.random() * title.length)).trimEnd() || title.slice(0, 1);
}

async function runAgainst(
  base: string,
  connections: number,
  seconds: number,
  sampled: { ids: string[]; titles: string[] } = { ids: [], titles: [] },
  only?: string,
): Promise<ScenarioResult[]> {
  // Page 500 (20 per page): walk there once through the API, then load that one URL. The
  // walk's ids are the random-id pool unless the caller sampled some from the whole table.
  let cursor: string | null = null;
  const walked: string[] = [];
  const walkedTitles: string[] = [];
  for (let page = 1; page < 500; page++) {
    const body: { items: { id: string; title: string }[]; nextCursor: string | null } = await getJson(
      `${base}/api/videos?limit=20${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
    );
    walked.push(...body.items.map((v) => v.id));
    walkedTitles.push(...body.items.map((v) => v.title));
    cursor = body.nextCursor;
    if (!cursor) throw new Error(`the catalog has fewer than 500 pages (ended at ${page})`);
  }
  const page500 = `/api/videos?limit=20&cursor=${encodeURIComponent(cursor ?? "")}`;
  const ids = sampled.ids.length ? sampled.ids : walked;
  const titles = sampled.titles.length ? sampled.titles : walkedTitles;
  const random = <T>(list: T[]) => list[Math.floor(Math.random() * list.length)] as T;
  const q = (query: string) => `/api/videos?limit=20&q=${encodeURIComponent(query)}`;
  const scenarios: Scenario[] = [
    { name: "list, first page", connections, path: () => "/api/videos?limit=20" },
    { name: "list, page 500", connections, path: () => page500 },
    { name: "get by random id", connections, path: () => `/api/videos/${random(ids)}` },
    { name: "get by random id", connections: 10, path: () => `/api/videos/${random(ids)}` },
    { name: "search: common word (tutorial)", connections, path: () => q("tutorial") },
    { name: "search: rare word (zither)", connections, path: () => q("zither") },
    { name: 'search: phrase ("street food")', connections, path: () => q('"street food"') },
    { name: "search: one typo (tutoral)", connections, path: () => q("tutoral") },
    { name: "search: no match", connections, path: () => q("xylophonequartz") },
    {
      name: "search + filters (short, >=720p, tag)",
      connections,
      path: () => `${q("guitar")}&duration=short&minHeight=720&tags=music`,
    },
    {
      name: "suggestions (random prefix)",
      connections,
      path: () => `/api/videos/suggestions?q=${encodeURIComponent(randomPrefix(titles))}`,
    },
  ];
  const out: ScenarioResult[] = [];
  const picked = only ? scenarios.filter((s) => only.split(",").some((part) => s.name.includes(part))) : scenarios;
  for (const s of picked) {
    // Requests of the previous scenario may still be queued for the database pool when its
    // clients stop: wait until the database answers quickly again, so they do not count here.
    await drain(base);
    // A short warm-up so the first scenario does not pay for cold caches alone.
    await runScenario(base, { ...s, connections: Math.min(s.connections, 10) }, 1);
    const r = await runScenario(base, s, seconds);
    out.push(r);
    console.log(
      `  ${r.name.padEnd(40)} c=${String(r.connections).padStart(2)}  ${fmt(r.rps, 0).padStart(6)} req/s  p50 ${fmt(r.p50, 1).padStart(6)} ms  p99 ${fmt(r.p99, 1).padStart(6)} ms${r.errors || r.non2xx ? `  (${r.errors} errors, ${r.non2xx} non-2xx)` : ""}`,
    );
  }
  return out;
}

export async function runCatalogBench(opts: CatalogBenchOptions): Promise<CatalogBenchResult[]> {
  const results: CatalogBenchResult[] = [];
  if (opts.postgresUrl) {
    const { url, seedSeconds, ids, titles } = await preparePostgres(opts.postgresUrl, opts.postgresRows, opts.reseed);
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "reelkit-bench-catalog-srv-"));
    const server = await ServerProcess.start({
      entry: "built",
      // warn: no per-request log lines (an access log belongs to the proxy or CDN in front).
      env: { DATABASE_URL: url, REELKIT_DATA_DIR: dataDir, REELKIT_LOG_LEVEL: "warn" },
      port: await freePort(),
    });
    try {
      console.log(`PostgreSQL, ${opts.postgresRows} videos:`);
      results.push({
        engine: "postgres",
        rows: opts.postgresRows,
        seedSeconds,
        scenarios: await runAgainst(server.base, opts.connections, opts.seconds, { ids, titles }, opts.scenarios),
      });
    } finally {
      await server.stop();
      await fs.rm(dataDir, { recursive: true, force: true });
    }
  }
  {
    const { dataDir, seedSeconds } = await prepareEmbedded(opts.embeddedRows, opts.reseed);
    if (!existsSync(dataDir)) throw new Error(`embedded bench directory ${dataDir} missing`);
    const server = await ServerProcess.start({
      entry: "built",
      env: { REELKIT_DATA_DIR: dataDir, REELKIT_LOG_LEVEL: "warn" },
      port: await freePort(),
      startTimeoutMs: 180_000,
    });
    try {
      console.log(`embedded database, ${opts.embeddedRows} videos:`);
      results.push({
        engine: "embedded",
        rows: opts.embeddedRows,
        seedSeconds,
        scenarios: await runAgainst(server.base, opts.connections, opts.seconds, undefined, opts.scenarios),
      });
    } finally {
      await server.stop();
    }
  }
  return results;
}

/** Prints the expectations of the issue against the PostgreSQL figures. */
export function printCatalogResult(results: CatalogBenchResult[]): void {
  for (const r of results) {
    if (r.seedSeconds !== null) console.log(`${r.engine}: seeded ${r.rows} videos in ${fmt(r.seedSeconds, 0)} s`);
  }
  const pgRun = results.find((r) => r.engine === "postgres");
  if (!pgRun) return;
  const find = (name: string, c: number) => pgRun.scenarios.find((s) => s.name === name && s.connections === c);
  const c = Math.max(...pgRun.scenarios.map((s) => s.connections));
  const searchP99 = Math.max(...pgRun.scenarios.filter((s) => s.name.startsWith("search")).map((s) => s.p99));
  const first = find("list, first page", c);
  const deep = find("list, page 500", c);
  const get50 = find("get by random id", c);
  const get10 = find("get by random id", 10);
  console.log("PostgreSQL against the expectations (two cores, shared machine: noisy):");
  if (Number.isFinite(searchP99)) {
    console.log(
      `  search p99 ≤ 50 ms:            ${fmt(searchP99)} ms (worst search scenario)  ${verdict(searchP99 <= 50)}`,
    );
  }
  if (first && deep) {
    const ratio = deep.rps / first.rps;
    console.log(`  page 500 within 20% of page 1: ${fmt(ratio * 100, 0)}% of page 1's req/s  ${verdict(ratio >= 0.8)}`);
    console.log(`  list ≥ 1,500 req/s:            ${fmt(first.rps, 0)} req/s  ${verdict(first.rps >= 1500)}`);
  }
  if (get50) console.log(`  get ≥ 3,000 req/s:             ${fmt(get50.rps, 0)} req/s  ${verdict(get50.rps >= 3000)}`);
  if (get10) console.log(`  get p99 ≤ 10 ms at 10 conns:   ${fmt(get10.p99)} ms  ${verdict(get10.p99 <= 10)}`);
  const suggest = find("suggestions (random prefix)", c);
  if (suggest) {
    const { low, high } = SUGGESTIONS_BASELINE;
    console.log(
      `  suggestions ≥ 3,000 req/s:     ${fmt(suggest.rps, 0)} req/s (${fmt(suggest.rps / high, 0)}–${fmt(suggest.rps / low, 0)}× the ${low}–${high} req/s before the prefix index)  ${verdict(suggest.rps >= 3000)}`,
    );
    console.log(`  suggestions p99 ≤ 20 ms:       ${fmt(suggest.p99)} ms  ${verdict(suggest.p99 <= 20)}`);
  }
}
