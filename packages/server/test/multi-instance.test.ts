import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { buffer } from "node:stream/consumers";
import { ListMultipartUploadsCommand } from "@aws-sdk/client-s3";
import { keys } from "@reelkit/core";
import type { Video } from "@reelkit/sdk/contract";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeWith, s3TestEngine } from "../../../test/engines.js";
import { createTestBucket, type TestBucket } from "../../../test/s3.js";
import { createTestDatabase, postgresMissing, type TestDatabase } from "../src/db/test-databases.js";
import { TEST_SECRET } from "./auth.js";
import { signUp } from "./factories.js";
import { ServerProcess } from "./server-process.js";

// Two reelkit-server processes on two ports sharing one PostgreSQL database and one S3 bucket,
// as behind a load balancer: tus requests for one upload land on either, and the PostgreSQL
// upload locker keeps them from writing the same upload at once.

const { engine, missing: s3Missing } = s3TestEngine();
const missing = postgresMissing ?? s3Missing;
const MiB = 1024 * 1024;
const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");
/** tus headers, with the bearer token of a user signed up on the first instance (valid on both). */
const TUS: Record<string, string> = { "Tus-Resumable": "1.0.0" };

describeWith(postgresMissing ? "postgres" : "s3", missing, "two server instances on PostgreSQL + S3", () => {
  let tdb: TestDatabase;
  let bucket: TestBucket;
  const servers: ServerProcess[] = [];
  const dirs: string[] = [];

  beforeAll(async () => {
    tdb = await createTestDatabase("postgres");
    bucket = await createTestBucket(engine as NonNullable<typeof engine>);
    for (let i = 0; i < 2; i++) {
      const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), `reelkit-instance-${i}-`));
      dirs.push(dataDir);
      servers.push(
        await ServerProcess.start({
          env: {
            ...bucket.env,
            PORT: "0",
            REELKIT_DATA_DIR: dataDir,
            DATABASE_URL: tdb.url as string,
            // Instances sharing a database share the secret, so a session works on every one.
            REELKIT_SECRET: TEST_SECRET,
          },
          startTimeoutMs: 120_000,
        }),
      );
    }
    Object.assign(TUS, (await signUp((servers[0] as ServerProcess).base)).bearer);
  }, 180_000);

  afterAll(async () => {
    await Promise.all(servers.map((s) => s.destroy()));
    await bucket?.drop();
    await tdb?.dispose();
    await Promise.all(dirs.map((d) => fs.rm(d, { recursive: true, force: true })));
  });

  const create = async (server: ServerProcess, length: number) => {
    const res = await fetch(`${server.base}/api/uploads`, {
      method: "POST",
      headers: { ...TUS, "Upload-Length": String(length), "Upload-Metadata": `filename ${btoa("noise.bin")}` },
    });
    expect(res.status).toBe(201);
    return { id: res.headers.get("reelkit-video-id") as string, location: res.headers.get("location") as string };
  };
  const offsetOn = async (server: ServerProcess, location: string) => {
    const head = await fetch(new URL(location, server.base), { method: "HEAD", headers: TUS });
    expect(head.status).toBe(200);
    return Number(head.headers.get("upload-offset"));
  };
  const patch = (server: ServerProcess, location: string, offset: number, body: Buffer) =>
    fetch(new URL(location, server.base), {
      method: "PATCH",
      headers: { ...TUS, "Upload-Offset": String(offset), "Content-Type": "application/offset+octet-stream" },
      body: new Uint8Array(body),
    });
  const status = async (server: ServerProcess, id: string) =>
    ((await (await fetch(`${server.base}/api/videos/${id}`)).json()) as Video).status;
  const sourceOf = async (id: string) => buffer(await bucket.storage.get(keys.source(id)));

  it("completes byte-exact an upload whose chunks alternate between the servers", async () => {
    const [a, b] = servers as [ServerProcess, ServerProcess];
    const data = randomBytes(23 * MiB + 333);
    const { id, location } = await create(a, data.length);
    // 3 MiB chunks end inside parts: the incomplete part written by one instance is picked up by the other.
    const chunk = 3 * MiB;
    for (let offset = 0, i = 0; offset < data.length; offset += chunk, i++) {
      const server = i % 2 === 0 ? b : a;
      // Each instance sees the offset the other one stored.
      expect(await offsetOn(server, location)).toBe(offset);
      const res = await patch(server, location, offset, data.subarray(offset, offset + chunk));
      expect(res.status).toBe(204);
    }
    expect(sha256(await sourceOf(id))).toBe(sha256(data));
    expect(await status(a, id)).not.toBe("UPLOADING");
    expect(await status(b, id)).not.toBe("UPLOADING");
  }, 120_000);

  it("never corrupts an upload that two PATCHes write at once through both servers", async () => {
    const [a, b] = servers as [ServerProcess, ServerProcess];
    // Two clients writing different bytes at the same offset, so that a mix would show.
    const data = randomBytes(20 * MiB + 77);
    const other = randomBytes(data.length);
    const { id, location } = await create(a, data.length);
    // A slow client on A (1 MiB every 250 ms) and, half a second later, a second writer on B.
    const slow = new Promise<number>((resolve) => {
      const req = http.request(new URL(location, a.base), {
        method: "PATCH",
        headers: {
          ...TUS,
          "Upload-Offset": "0",
          "Content-Type": "application/offset+octet-stream",
          "Content-Length": String(data.length),
        },
      });
      req.on("response", (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("error", () => resolve(0));
      let sent = 0;
      const next = () => {
        if (sent >= data.length || req.destroyed) return;
        const piece = data.subarray(sent, sent + MiB);
        sent += piece.length;
        req.write(piece, () => setTimeout(next, 250));
        if (sent >= data.length) req.end();
      };
      next();
    });
    await new Promise((r) => setTimeout(r, 500));
    const second = await patch(b, location, 0, other);
    await slow;
    // The second writer waited for the lock: the first request let go and kept what it had stored,
    // so the offset had moved (409), or the upload was already complete (gone: 404). Without a
    // shared lock it would have written over the first one's parts.
    expect([409, 404]).toContain(second.status);
    // Unless it is complete, both servers agree on one offset and the first client resumes there.
    if (!(await bucket.storage.stat(keys.source(id)))) {
      const offset = await offsetOn(a, location);
      expect(offset).toBeGreaterThan(0);
      expect(await offsetOn(b, location)).toBe(offset);
      const rest = await patch(b, location, offset, data.subarray(offset));
      expect(rest.status).toBe(204);
    }
    expect(sha256(await sourceOf(id))).toBe(sha256(data));
    expect(await status(b, id)).not.toBe("UPLOADING");
  }, 120_000);

  it("aborts the multipart upload of a video deleted mid-upload through the other server at once", async () => {
    const [a, b] = servers as [ServerProcess, ServerProcess];
    const data = randomBytes(20 * MiB);
    const { id, location } = await create(a, data.length);
    // Two parts stored in S3, the upload unfinished (its multipart upload is at the source key).
    expect((await patch(a, location, 0, data.subarray(0, 17 * MiB))).status).toBe(204);
    const key = keys.source(id);
    const open = async () =>
      ((await bucket.client.send(new ListMultipartUploadsCommand({ Bucket: bucket.name, Prefix: key }))).Uploads ?? [])
        .map((u) => u.Key)
        .filter((k) => k === key);
    expect(await open()).toEqual([key]);
    expect((await fetch(`${b.base}/api/videos/${id}`, { method: "DELETE", headers: TUS })).status).toBe(204);
    // Not left for the expiry sweep: its parts are gone now, and so is every object of the upload.
    expect(await open()).toEqual([]);
    expect((await bucket.storage.list(keys.upload(id))).map((o) => o.key)).toEqual([]);
    expect((await bucket.storage.list(`videos/${id}/`)).map((o) => o.key)).toEqual([]);
    // The client's next PATCH finds nothing to write to.
    const late = await patch(a, location, 17 * MiB, data.subarray(17 * MiB));
    expect([404, 410]).toContain(late.status);
  }, 120_000);
});
