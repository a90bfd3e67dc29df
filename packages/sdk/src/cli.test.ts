import { randomUUID } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileStore } from "@tus/file-store";
import { Server } from "@tus/server";
import { describe, expect, it } from "vitest";
import { progressLine, runCli } from "./cli.js";
import { UPLOADS_PATH, VIDEO_ID_HEADER } from "./contract.js";

describe("progressLine", () => {
  it("draws a bar with percent, speed and ETA", () => {
    expect(progressLine(50, 2 * 1024 * 1024, 3.2, false)).toBe(
      `[${"#".repeat(15)}${"-".repeat(15)}]  50.0% 2.0 MiB/s ETA 4s\n`,
    );
    expect(progressLine(0, 0, null, true).startsWith("\r[")).toBe(true);
  });
});

describe("reelkit upload", () => {
  it("prints usage on bad arguments", async () => {
    const err: string[] = [];
    expect(await runCli(["nope"], { out: () => undefined, err: (t) => err.push(t), env: {} })).toBe(2);
    expect(err.join("")).toContain("usage: reelkit upload");
  });

  it("uploads a file to a real tus server and prints the video id", async () => {
    const dir = await mkdtemp(join(tmpdir(), "reelkit-cli-"));
    const id = randomUUID();
    const tus = new Server({ path: UPLOADS_PATH, datastore: new FileStore({ directory: join(dir, "store") }) });
    const http = createServer((req, res) => {
      if (req.method === "POST") res.setHeader(VIDEO_ID_HEADER, id);
      void tus.handle(req, res);
    });
    await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
    const address = http.address();
    const port = typeof address === "object" && address ? address.port : 0;
    try {
      const path = join(dir, "a.mp4");
      await writeFile(path, Buffer.alloc(2048, 7));
      const out: string[] = [];
      const code = await runCli(["upload", path, "--title", "Hi"], {
        out: (t) => out.push(t),
        err: (t) => out.push(t),
        env: { REELKIT_URL: `http://127.0.0.1:${port}` },
      });
      expect(code).toBe(0);
      expect(out.join("")).toContain("100.0%");
      expect(out.at(-1)).toBe(`uploaded: ${id}\n`);
    } finally {
      http.closeAllConnections();
      await new Promise((r) => http.close(r));
      await rm(dir, { recursive: true, force: true });
    }
  });
});
