import { execFileSync } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { resolveBinaries } from "@reelkit/transcoder";
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import { describeWith, kafkaBrokers, kafkaMissing, s3TestEngine } from "../../../test/engines.js";
import { createTestBucket, type TestBucket } from "../../../test/s3.js";
import { expectLadderInBucket } from "../../../test/s3-ladder.js";
import { createTestDatabase, postgresMissing, type TestDatabase } from "../src/db/test-databases.js";
import { TEST_SECRET } from "./auth.js";
import { settled, signUp, type TestUser, waitForVideo } from "./factories.js";
import { ServerProcess } from "./server-process.js";
import { uploadFile } from "./tus-upload.js";

// The whole distributed topology as real processes: two reelkit-server instances on two ports
// (transcoder off) and two reelkit-transcoder workers, on PostgreSQL, Kafka and an S3-compatible
// server, with no directory shared between them.

const { engine, missing: s3Missing } = s3TestEngine();
const missing = kafkaMissing ?? postgresMissing ?? s3Missing;
const engineName = kafkaMissing ? "kafka" : postgresMissing ? "postgres" : "s3";
const bin = resolveBinaries({ ffmpegPath: null, ffprobePath: null });
/** Deliveries of a job before it is parked: low, so the crash-loop test stays short. */
const MAX_ATTEMPTS = 2;

describeWith(engineName, missing, "two servers and two transcoders on Kafka, S3 and PostgreSQL", () => {
  let work: string;
  let tdb: TestDatabase;
  let bucket: TestBucket;
  let env: Record<string, string>;
  let small: Buffer;
  let long: Buffer;
  /** Signed up on one server; its session works on both (they share the database and secret). */
  let user: TestUser;
  const servers: ServerProcess[] = [];
  let transcoders: ServerProcess[] = [];
  const everyProcess: ServerProcess[] = [];

  const start = async (entry: "source" | "transcoder", name: string) => {
    const dataDir = path.join(work, name);
    await fs.mkdir(dataDir, { recursive: true });
    const p = await ServerProcess.start({
      entry,
      env: { ...env, PORT: "0", REELKIT_DATA_DIR: dataDir },
      startTimeoutMs: 120_000,
    });
    everyProcess.push(p);
    return p;
  };

  beforeAll(async () => {
    work = await fs.mkdtemp(path.join(os.tmpdir(), "reelkit-distributed-"));
    tdb = await createTestDatabase("postgres");
    bucket = await createTestBucket(engine as NonNullable<typeof engine>);
    env = {
      ...bucket.env,
      DATABASE_URL: tdb.url as string,
      KAFKA_BROKERS: kafkaBrokers.join(","),
      REELKIT_KAFKA_TOPIC_PREFIX: `dist${Date.now()}.`,
      REELKIT_KAFKA_PARTITIONS: "4",
      REELKIT_TRANSCODER: "off",
      REELKIT_RUNGS: "360,180",
      REELKIT_JOB_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
      REELKIT_SECRET: TEST_SECRET,
    };
    const clip = (name: string, seconds: number) => {
      const file = path.join(work, name);
      execFileSync(bin.ffmpeg, [
        ...["-v", "error", "-y", "-f", "lavfi", "-i", `testsrc2=size=640x360:rate=25:duration=${seconds}`],
        ...["-f", "lavfi", "-i", `sine=frequency=330:duration=${seconds}`],
        ...["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", file],
      ]);
      return fs.readFile(file);
    };
    small = await clip("small.mp4", 3);
    long = await clip("long.mp4", 20);
    // The first server applies the migrations; the others find nothing to do.
    servers.push(await start("source", "server-1"));
    servers.push(await start("source", "server-2"));
    transcoders = [await start("transcoder", "transcoder-1"), await start("transcoder", "transcoder-2")];
    user = await signUp((servers[0] as ServerProcess).base);
  }, 300_000);

  afterAll(async () => {
    await Promise.all(everyProcess.map((p) => p.destroy()));
    await bucket?.drop();
    await tdb?.dispose();
    if (work) await fs.rm(work, { recursive: true, force: true });
  });

  it("takes six uploads through both servers to READY with every object in the bucket", async () => {
    const ids = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        uploadFile((servers[i % 2] as ServerProcess).base, small, `six-${i}`, user.bearer),
      ),
    );
    for (const [i, id] of ids.entries()) {
      // Read back through the other server: the catalog is one.
      const video = await waitForVideo((servers[(i + 1) % 2] as ServerProcess).base, id, settled, 240_000);
      expect(video.failureReason, id).toBeNull();
      expect(video.status, id).toBe("READY");
      expect(video.renditions.map((r) => r.height)).toEqual([360, 180]);
      await expectLadderInBucket(bucket, id, { variants: 2, audio: true });
      // A private bucket is played through either server.
      const master = await fetch(`${(servers[i % 2] as ServerProcess).base}${video.playbackUrl}`);
      expect(master.status).toBe(200);
    }
    // The transcoders' own metrics count what they did (between them, every job).
    let ready = 0;
    for (const t of transcoders) {
      const metrics = await (await fetch(`${t.base}/metrics`)).text();
      const m = /reelkit_transcode_jobs_total\{[^}]*outcome="ready"[^}]*\} (\d+)/.exec(metrics);
      ready += Number(m?.[1] ?? 0);
      expect(metrics).toMatch(/reelkit_transcode_queue_wait_seconds_count/);
    }
    expect(ready).toBeGreaterThanOrEqual(6);
    // Nothing is left in the ledger of deliveries once every job is acknowledged.
    await vi.waitFor(async () => expect(await bucket.storage.list("bus/deliveries/")).toEqual([]), {
      timeout: 15_000,
    });
  }, 400_000);

  it("lets a transcoder stopped with SIGTERM mid-job exit at once, and the other one finishes the job", async () => {
    const id = await uploadFile((servers[0] as ServerProcess).base, long, "sigterm", user.bearer);
    let busy: ServerProcess | undefined;
    await vi.waitFor(
      () => {
        busy = transcoders.find((t) => t.encoderGroups().length > 0);
        expect(busy, "a transcoder runs ffmpeg").toBeDefined();
      },
      { timeout: 120_000, interval: 100 },
    );
    const victim = busy as ServerProcess;
    const t0 = Date.now();
    const code = await victim.stop();
    const ms = Date.now() - t0;
    // 0: a clean stop, not the 10 s forced exit (1); it hands its job back on its way out.
    expect(code, victim.recentLog()).toBe(0);
    expect(victim.recentLog()).toMatch(/transcode stopped; the job goes back to the queue/);
    expect(ms).toBeLessThan(10_000);
    const video = await waitForVideo((servers[1] as ServerProcess).base, id, settled, 240_000);
    expect(video.failureReason).toBeNull();
    expect(video.status).toBe("READY");
    const survivor = transcoders.find((t) => t !== victim) as ServerProcess;
    // It logs "transcode ready" after publishing the event the server made READY from: wait for it.
    await vi.waitFor(() => expect(survivor.recentLog()).toMatch(new RegExp(`"videoId":"${id}".*transcode ready`)), {
      timeout: 15_000,
    });
    await expectLadderInBucket(bucket, id, { variants: 2, audio: true });
    transcoders = [survivor, await start("transcoder", "transcoder-3")];
  }, 400_000);

  it("parks a job that kills its transcoder each time after N deliveries, and its video is FAILED", async () => {
    const id = await uploadFile((servers[1] as ServerProcess).base, long, "kills-its-worker", user.bearer);
    // Whichever transcoder takes the job dies with it, as under an OOM killer; a new one replaces it.
    for (let kill = 1; kill <= MAX_ATTEMPTS; kill++) {
      let busy: ServerProcess | undefined;
      await vi.waitFor(
        () => {
          busy = transcoders.find((t) => t.encoderGroups().length > 0);
          expect(busy, `delivery ${kill} runs somewhere`).toBeDefined();
        },
        { timeout: 120_000, interval: 100 },
      );
      const victim = busy as ServerProcess;
      await victim.crash();
      transcoders = [
        ...transcoders.filter((t) => t !== victim),
        await start("transcoder", `transcoder-replacement-${kill}`),
      ];
    }
    // The next delivery is parked without running: the video says why.
    const video = await waitForVideo((servers[0] as ServerProcess).base, id, settled, 240_000);
    expect(video.status).toBe("FAILED");
    expect(video.failureReason).toMatch(/could not be processed: every attempt failed/);
    expect(transcoders.map((t) => t.recentLog()).join("\n")).toMatch(/no outcome after 2 deliveries/);
    // Its delivery record goes once the parked message is committed (just after the owner is told).
    await vi.waitFor(async () => expect(await bucket.storage.list("bus/deliveries/")).toEqual([]), {
      timeout: 15_000,
    });
  }, 400_000);
});
