import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "../src/db/database.js";
import { signUp } from "./factories.js";
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

  it("refuses a catalog written by the former PGlite engine, naming the directory", async () => {
    const dataDir = path.join(work, "pglite");
    await fs.mkdir(path.join(dataDir, "db"), { recursive: true });
    await fs.writeFile(path.join(dataDir, "db", "PG_VERSION"), "17\n");
    await expect(openDatabase({ dataDir, databaseUrl: null })).rejects.toThrow(
      `${path.join(dataDir, "db")} holds a PostgreSQL 17 catalog; the embedded database is PostgreSQL 18 (a catalog written by the PGlite engine`,
    );
  });
});
