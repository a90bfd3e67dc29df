import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { signUp, tusCreate } from "./factories.js";
import { ServerProcess } from "./server-process.js";

// One process per REELKIT_DATA_DIR, with real server processes: a second one refuses to start,
// naming the directory and the holder; the lock of a killed process is taken over.

let work: string;
const servers: ServerProcess[] = [];

async function startServer(dataDir: string): Promise<ServerProcess> {
  const server = await ServerProcess.start({ env: { REELKIT_DATA_DIR: dataDir, PORT: "0" } });
  servers.push(server);
  return server;
}

async function createVideo(base: string, title: string): Promise<string> {
  const user = await signUp(base);
  const res = await tusCreate(base, { auth: user.bearer, metadata: { filename: "a.mp4", title }, length: 10 });
  expect(res.status).toBe(201);
  return res.headers.get("reelkit-video-id") as string;
}

beforeAll(async () => {
  work = await fs.mkdtemp(path.join(os.tmpdir(), "reelkit-lock-"));
});

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.destroy()));
});

afterAll(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

describe("REELKIT_DATA_DIR lock", () => {
  it("refuses a second process on the same directory, naming the directory and the holder's pid", async () => {
    const dataDir = path.join(work, "shared");
    const first = await startServer(dataDir);
    const id = await createVideo(first.base, "kept");
    const lock = JSON.parse(await fs.readFile(path.join(dataDir, "reelkit.lock"), "utf8")) as { pid: number };
    expect(lock.pid).toBe(first.pid);

    const second = ServerProcess.start({ env: { REELKIT_DATA_DIR: dataDir, PORT: "0" } });
    const err = (await second.then(
      (s) => {
        servers.push(s);
        return null;
      },
      (e: Error) => e,
    )) as Error | null;
    expect(err?.message).toMatch(/server exited with 1 before listening/);
    expect(err?.message).toContain(
      `REELKIT_DATA_DIR ${dataDir} is in use by another Reelkit process (pid ${first.pid})`,
    );

    // The first one never noticed: it still serves its catalog, and a clean stop removes the lock.
    expect((await fetch(`${first.base}/api/videos/${id}`)).status).toBe(200);
    expect(await first.stop()).toBe(0);
    await expect(fs.access(path.join(dataDir, "reelkit.lock"))).rejects.toThrow();
  }, 120_000);

  it("takes over the lock of a process that was killed, and keeps its data", async () => {
    const dataDir = path.join(work, "crashed");
    const first = await startServer(dataDir);
    const id = await createVideo(first.base, "before the crash");
    await first.crash();
    // The lock file is still there, naming a dead process.
    const stale = JSON.parse(await fs.readFile(path.join(dataDir, "reelkit.lock"), "utf8")) as { pid: number };
    expect(stale.pid).toBe(first.pid);

    const second = await startServer(dataDir);
    const lock = JSON.parse(await fs.readFile(path.join(dataDir, "reelkit.lock"), "utf8")) as { pid: number };
    expect(lock.pid).toBe(second.pid);
    const res = await fetch(`${second.base}/api/videos/${id}`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { title: string }).title).toBe("before the crash");
  }, 120_000);

  it("takes over a lock naming a live process that is not its holder (a reused pid)", async () => {
    const dataDir = path.join(work, "reused");
    await fs.mkdir(dataDir, { recursive: true });
    // This test runner is alive, but it started at another time than the lock records (Linux: /proc).
    await fs.writeFile(path.join(dataDir, "reelkit.lock"), JSON.stringify({ pid: process.pid, startTime: "1" }));
    const server = await startServer(dataDir);
    const lock = JSON.parse(await fs.readFile(path.join(dataDir, "reelkit.lock"), "utf8")) as { pid: number };
    expect(lock.pid).toBe(server.pid);
  }, 120_000);
});
