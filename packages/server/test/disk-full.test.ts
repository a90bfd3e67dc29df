import fs from "node:fs/promises";
import path from "node:path";
import { LocalStorage, loadConfig } from "@reelkit/core";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeWith } from "../../../test/engines.js";
import { buildApp } from "../src/app.js";
import { createCatalog } from "../src/catalog/catalog.js";
import { createTestDatabase, type TestDatabase } from "../src/db/test-databases.js";
import { testAuth } from "./auth.js";
import { signUp, type TestUser } from "./factories.js";
import { mountTmpfs, type Tmpfs, tmpfsMissing } from "./tmpfs.js";

// A full disk, for real: the media directory on a small tmpfs filled to the last byte.

describeWith("tmpfs", tmpfsMissing, "uploads on a full disk", () => {
  let tdb: TestDatabase;
  let tmpfs: Tmpfs;
  let app: FastifyInstance;
  let base = "";
  let user: TestUser;

  beforeAll(async () => {
    tdb = await createTestDatabase("embedded");
    tmpfs = mountTmpfs(256);
    const storage = new LocalStorage(path.join(tmpfs.dir, "media"));
    const config = loadConfig({ REELKIT_DATA_DIR: tdb.dataDir, REELKIT_LOG_LEVEL: "silent" });
    app = await buildApp({
      config,
      storage,
      catalog: createCatalog(tdb.db.prisma),
      auth: testAuth(tdb.db.prisma, config),
    });
    base = await app.listen({ port: 0, host: "127.0.0.1" });
    user = await signUp(base);
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    tmpfs?.unmount();
    await tdb?.dispose();
  });

  it("answers a creation with 507 in the error shape and leaves no video and no upload file", async () => {
    tmpfs.fill();
    const res = await fetch(`${base}/api/uploads`, {
      method: "POST",
      headers: {
        ...user.bearer,
        "Tus-Resumable": "1.0.0",
        "Upload-Length": "1000",
        "Upload-Metadata": `title ${Buffer.from("Full disk").toString("base64")}`,
      },
    });
    expect(res.status).toBe(507);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({
      error: { code: "INSUFFICIENT_STORAGE", message: "The server has no space left to store the upload" },
    });
    expect(res.headers.get("location")).toBeNull();
    expect(await tdb.db.prisma.video.count()).toBe(0);
    expect(await fs.readdir(path.join(tmpfs.dir, "media", "uploads"))).toEqual([]);
  });
});
