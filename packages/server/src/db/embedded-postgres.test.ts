import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { isProcessAlive } from "@reelkit/core";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { PostgresChangeFeed } from "./change-feed.js";
import { type EmbeddedPostgres, startEmbeddedPostgres } from "./embedded-postgres.js";

// The supervisor on a real postmaster, killed with SIGKILL as the OOM killer does.

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function start(restart?: Parameters<typeof startEmbeddedPostgres>[0]["restart"], onGiveUp?: (e: Error) => void) {
  const dir = await mkdtemp(path.join(os.tmpdir(), "reelkit-supervised-"));
  const server = await startEmbeddedPostgres({ dir: path.join(dir, "db"), restart, onGiveUp });
  cleanups.push(async () => {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });
  return { server, dir: path.join(dir, "db") };
}

async function until<T>(what: string, fn: () => Promise<T | null> | T | null, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function query(server: EmbeddedPostgres, sql: string): Promise<unknown[]> {
  const client = new pg.Client({ connectionString: server.url });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

describe("embedded database supervision", () => {
  it("restarts a killed postmaster on the same URL with its rows, and the LISTEN feed hears again", async () => {
    const { server } = await start();
    await query(server, "CREATE TABLE kept (n int); INSERT INTO kept VALUES (42)");
    const feed = new PostgresChangeFeed(server.url);
    cleanups.push(() => feed.close());
    await feed.start();
    const heard: (string | null)[] = [];
    feed.subscribe((id) => heard.push(id));

    const first = server.pid;
    process.kill(first, "SIGKILL");
    await until("the outage to be noticed", () => server.downSince);
    const second = await until("the restart", () => (server.downSince === null ? server.pid : null));
    expect(second).not.toBe(first);
    expect(isProcessAlive(first)).toBe(false);
    expect(await query(server, "SELECT n FROM kept")).toEqual([{ n: 42 }]);

    // The feed reconnected by itself, said that it may have missed changes, and hears new ones.
    await until("the feed to reconnect", () => (heard.includes(null) ? true : null));
    await query(server, "SELECT pg_notify('reelkit_catalog', 'after-restart')");
    await until("the notification", () => (heard.includes("after-restart") ? true : null));
  }, 60_000);

  it("gives up when the database cannot be started again", async () => {
    let lost: Error | null = null;
    const { server, dir } = await start(
      { firstDelayMs: 100, maxDelayMs: 200, maxAttempts: 2, budgetMs: 10_000, stableMs: 10_000 },
      (err) => {
        lost = err;
      },
    );
    process.kill(server.pid, "SIGKILL");
    // A data directory that is no longer one: postgres refuses to start on it.
    await rm(path.join(dir, "PG_VERSION"));
    const err = await until("the supervisor to give up", () => lost);
    expect(err.message).toBe(
      "the embedded database exited and could not be restarted: the database did not stay up after 2 restarts",
    );
    expect(server.downSince).not.toBeNull();
  }, 60_000);
});
