import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "../src/db/database.js";
import { settled, signIn, signUp, uploadAs, waitForVideo } from "./factories.js";
import { ServerProcess } from "./server-process.js";

// The embedded database is a process of its own: it must not outlive a killed server, and a
// server started right after one was killed must get the catalog back.

let work: string;
const servers: ServerProcess[] = [];

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function postmasterPid(dataDir: string): Promise<number> {
  return Number((await fs.readFile(path.join(dataDir, "db", "postmaster.pid"), "utf8")).split("\n")[0]);
}

beforeAll(async () => {
  work = await fs.mkdtemp(path.join(os.tmpdir(), "reelkit-embedded-"));
});

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.destroy()));
});

afterAll(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

describe("embedded database process", () => {
  it("stops when its server is killed with SIGKILL, and the next server reopens the catalog", async () => {
    const dataDir = path.join(work, "killed");
    const first = await ServerProcess.start({ env: { REELKIT_DATA_DIR: dataDir, PORT: "0" } });
    servers.push(first);
    const user = await signUp(first.base);
    const res = await fetch(`${first.base}/api/uploads`, {
      method: "POST",
      headers: {
        ...user.bearer,
        "Tus-Resumable": "1.0.0",
        "Upload-Length": "10",
        "Upload-Metadata": `filename ${Buffer.from("a.mp4").toString("base64")}`,
      },
    });
    expect(res.status).toBe(201);
    const id = res.headers.get("reelkit-video-id");
    const pid = await postmasterPid(dataDir);
    expect(alive(pid)).toBe(true);

    await first.crash();
    const deadline = Date.now() + 30_000;
    while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(alive(pid)).toBe(false);

    const second = await ServerProcess.start({ env: { REELKIT_DATA_DIR: dataDir, PORT: "0" } });
    servers.push(second);
    expect((await fetch(`${second.base}/api/videos/${id}`)).status).toBe(200);
  }, 120_000);

  it("restarts its database after a kill -9, answering 503 with Retry-After meanwhile, and loses nothing", async () => {
    const dataDir = path.join(work, "oom-killed");
    const server = await ServerProcess.start({ env: { REELKIT_DATA_DIR: dataDir, PORT: "0" } });
    servers.push(server);
    const user = await signUp(server.base);
    const before = await uploadAs(server.base, user.bearer, { filename: "before.mp4", title: "before" });
    await waitForVideo(server.base, before, settled, 60_000);
    const pid = await postmasterPid(dataDir);

    // A bounded probe loop: a catalog read and liveness, every 50 ms, each with a deadline.
    interface Probe {
      status: number;
      retryAfter: string | null;
      code: string | null;
      ms: number;
      health: { status: number; body: string };
    }
    const probes: Probe[] = [];
    let recovered = false;
    const loop = (async () => {
      const deadline = Date.now() + 60_000;
      let sawOutage = false;
      while (Date.now() < deadline) {
        const started = Date.now();
        const res = await fetch(`${server.base}/api/videos?limit=5`, { signal: AbortSignal.timeout(10_000) });
        const text = await res.text();
        const ms = Date.now() - started;
        const health = await fetch(`${server.base}/healthz`, { signal: AbortSignal.timeout(10_000) });
        probes.push({
          status: res.status,
          retryAfter: res.headers.get("retry-after"),
          code: res.status === 200 ? null : (JSON.parse(text) as { error: { code: string } }).error.code,
          ms,
          health: { status: health.status, body: await health.text() },
        });
        if (res.status !== 200) sawOutage = true;
        else if (sawOutage) {
          recovered = true;
          return;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    await new Promise((r) => setTimeout(r, 200));
    process.kill(pid, "SIGKILL"); // what the OOM killer does
    await loop;

    const failures = probes.filter((p) => p.status !== 200);
    expect(recovered, server.recentLog()).toBe(true);
    expect(failures.length).toBeGreaterThan(0);
    for (const p of failures) {
      expect(p).toMatchObject({ status: 503, code: "DATABASE_UNAVAILABLE" });
      expect(Number(p.retryAfter)).toBeGreaterThan(0);
      expect(p.ms).toBeLessThan(2_000); // answered at once, not after a connect timeout
      // Within its grace, liveness says the database is restarting but does not fail.
      expect(p.health.status).toBe(200);
    }
    expect(failures.some((p) => JSON.parse(p.health.body).database === "restarting")).toBe(true);
    const newPid = await postmasterPid(dataDir);
    expect(newPid).not.toBe(pid);
    expect(alive(newPid)).toBe(true);

    // Everything written before is there: the account (sign-in, and the old session), the video.
    const again = await signIn(server.base, user.email, user.password);
    expect((await fetch(`${server.base}/api/videos?mine=true`, { headers: user.bearer })).status).toBe(200);
    const mine = await fetch(`${server.base}/api/videos?mine=true`, { headers: again.bearer });
    expect(((await mine.json()) as { items: { id: string }[] }).items.map((v) => v.id)).toContain(before);
    // A new write goes through, and the background work (outbox relay, job queue, transcoder,
    // event consumer) carries it to a final state.
    const after = await uploadAs(server.base, again.bearer, { filename: "after.mp4", title: "after" });
    expect((await waitForVideo(server.base, after, settled, 60_000)).status).toBe("FAILED");
    expect((await fetch(`${server.base}/healthz`)).status).toBe(200);
    expect((await fetch(`${server.base}/readyz`)).status).toBe(200);
  }, 180_000);

  it("fails /healthz, then exits non-zero, when its database cannot come back", async () => {
    const dataDir = path.join(work, "unrecoverable");
    const server = await ServerProcess.start({ env: { REELKIT_DATA_DIR: dataDir, PORT: "0" } });
    servers.push(server);
    const exited = new Promise<number | null>((resolve) => server.child.once("exit", (code) => resolve(code)));
    process.kill(await postmasterPid(dataDir), "SIGKILL");
    // No longer a data directory: every restart fails.
    await fs.rm(path.join(dataDir, "db", "PG_VERSION"));

    let health: { status: number; body: { error?: { code: string } } } | null = null;
    const deadline = Date.now() + 40_000;
    while (Date.now() < deadline) {
      const res = await fetch(`${server.base}/healthz`).catch(() => null);
      if (res && res.status !== 200) {
        health = { status: res.status, body: await res.json() };
        break;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(health, server.recentLog()).toMatchObject({
      status: 503,
      body: { error: { code: "DATABASE_UNAVAILABLE" } },
    });
    expect(await exited).toBe(1);
    expect(server.recentLog()).toContain("could not be restarted");
    expect(server.recentLog()).not.toContain("forced exit");
  }, 120_000);

  it("refuses a catalog written by the former PGlite engine, naming the directory", async () => {
    const dataDir = path.join(work, "pglite");
    await fs.mkdir(path.join(dataDir, "db"), { recursive: true });
    await fs.writeFile(path.join(dataDir, "db", "PG_VERSION"), "17\n");
    await expect(openDatabase({ dataDir, databaseUrl: null })).rejects.toThrow(
      `${path.join(dataDir, "db")} holds a PostgreSQL 17 catalog; the embedded database is PostgreSQL 18 (a catalog written by the PGlite engine`,
    );
  });
});
