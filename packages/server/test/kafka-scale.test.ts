import { execFileSync } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { resolveBinaries } from "@reelkit/transcoder";
import { afterAll, afterEach, beforeAll, expect, it, vi } from "vitest";
import { describeWith, kafkaBrokers, kafkaMissing } from "../../../test/engines.js";
import { startPrivateKafka } from "../../../test/private-kafka.js";
import { createTestDatabase, postgresMissing, type TestDatabase } from "../src/db/test-databases.js";
import { getVideo, settled, signUp, waitForVideo } from "./factories.js";
import { groupAlive, ServerProcess } from "./server-process.js";
import { uploadFile } from "./tus-upload.js";

// Scale mode with real processes: reelkit-server (transcoder off) on PostgreSQL and Kafka, and
// separate reelkit-transcoder processes sharing the media directory.

const bin = resolveBinaries({ ffmpegPath: null, ffprobePath: null });
const missing = kafkaMissing ?? postgresMissing;
let work: string;
let clip: string;
let tdb: TestDatabase;
const procs: ServerProcess[] = [];

async function start(entry: "source" | "transcoder", env: Record<string, string>): Promise<ServerProcess> {
  const p = await ServerProcess.start({ entry, env: { PORT: "0", ...env } });
  procs.push(p);
  return p;
}

function scaleEnv(brokers: string, prefix: string): Record<string, string> {
  return {
    DATABASE_URL: tdb.url as string,
    KAFKA_BROKERS: brokers,
    REELKIT_KAFKA_TOPIC_PREFIX: prefix,
    REELKIT_KAFKA_PARTITIONS: "2",
    REELKIT_DATA_DIR: path.join(work, prefix),
    REELKIT_TRANSCODER: "off",
  };
}

beforeAll(async () => {
  work = await fs.mkdtemp(path.join(os.tmpdir(), "reelkit-kafka-scale-"));
  clip = path.join(work, "clip.mp4");
  execFileSync(bin.ffmpeg, [
    ...["-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=854x480:rate=30:duration=16"],
    ...["-f", "lavfi", "-i", "sine=frequency=440:duration=16"],
    ...["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", clip],
  ]);
}, 60_000);

afterEach(async () => {
  await Promise.all(procs.splice(0).map((p) => p.destroy()));
});

afterAll(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

describeWith("kafka", missing, "scale mode on Kafka and PostgreSQL (real processes)", () => {
  beforeAll(async () => {
    tdb = await createTestDatabase("postgres");
  }, 60_000);
  afterAll(async () => {
    await tdb?.dispose();
  });

  it("finishes a job on another transcoder after the one running it is killed with SIGKILL", async () => {
    const env = scaleEnv(kafkaBrokers.join(","), `kill${Date.now()}.`);
    const server = await start("source", env);
    const transcoders = [await start("transcoder", env), await start("transcoder", env)];
    const user = await signUp(server.base);
    const id = await uploadFile(server.base, await fs.readFile(clip), "Survives a dead transcoder", user.bearer);
    await waitForVideo(server.base, id, (v) => v.status === "READY" || v.progress >= 5, 90_000);
    const busy = transcoders.find((t) => t.encoderGroups().length > 0);
    expect(busy, "one transcoder runs ffmpeg").toBeDefined();
    const victim = busy as ServerProcess;
    const groups = victim.encoderGroups();
    await victim.crash();
    // Its ffmpeg does not outlive it.
    await vi.waitFor(() => expect(groups.filter(groupAlive)).toEqual([]), { timeout: 5_000 });

    const video = await waitForVideo(server.base, id, settled, 180_000);
    expect(video.failureReason).toBeNull();
    expect(video.status).toBe("READY");
    expect(video.renditions.map((r) => r.height)).toEqual([480, 360, 180]);
    const survivor = transcoders.find((t) => t !== victim) as ServerProcess;
    // It logs "transcode ready" after publishing the event the server made READY from: wait for it.
    await vi.waitFor(() => expect(survivor.recentLog()).toMatch(/transcode ready/), { timeout: 15_000 });
  }, 300_000);

  it("loses nothing and leaves nothing stuck when the broker restarts mid-run", async () => {
    const broker = await startPrivateKafka(path.join(work, "broker"));
    try {
      const env = scaleEnv(broker.brokers.join(","), "restart.");
      const server = await start("source", env);
      await start("transcoder", env);
      const small = path.join(work, "small.mp4");
      execFileSync(bin.ffmpeg, [
        ...["-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=426x240:rate=25:duration=6"],
        ...["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", small],
      ]);
      const data = await fs.readFile(small);
      const user = await signUp(server.base);
      const ids = [
        await uploadFile(server.base, data, "before-1", user.bearer),
        await uploadFile(server.base, data, "before-2", user.bearer),
      ];
      await waitForVideo(server.base, ids[0] as string, (v) => v.status !== "QUEUED", 90_000);

      await broker.stop();
      // Uploads go on while the broker is down: their events wait in the outbox.
      ids.push(await uploadFile(server.base, data, "during", user.bearer));
      expect((await getVideo(server.base, ids[2] as string)).status).toBe("QUEUED");
      await new Promise((r) => setTimeout(r, 3_000));
      await broker.start();
      ids.push(await uploadFile(server.base, data, "after", user.bearer));

      // What each process logged last says where a video stopped (a consumer, a commit, a phase).
      const logs = () => procs.map((p, i) => `--- process ${i} ---\n${p.recentLog()}`).join("\n");
      for (const id of ids) {
        const video = await waitForVideo(server.base, id, settled, 240_000).catch((err: Error) => {
          throw new Error(`${err.message}\n${logs()}`);
        });
        expect(video.failureReason, `${id}\n${logs()}`).toBeNull();
        expect(video.status, id).toBe("READY");
      }
      const pending = await tdb.db.prisma.outbox.count({ where: { publishedAt: null } });
      expect(pending).toBe(0);
    } finally {
      await broker.stop().catch(() => {});
    }
  }, 600_000);
});
