import { execFileSync } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { resolveBinaries } from "@reelkit/transcoder";
import pg from "pg";
import { afterAll, afterEach, beforeAll, expect, it, vi } from "vitest";
import { describeWith } from "../../../test/engines.js";
import { createTestDatabase, postgresMissing, type TestDatabase } from "../src/db/test-databases.js";
import { getVideo, settled, signUp, waitForVideo } from "./factories.js";
import { groupAlive, ServerProcess } from "./server-process.js";
import { uploadFile } from "./tus-upload.js";

// The delivery model with real reelkit-server processes: a graceful stop hands the running job
// back within seconds and never fails the video; a crash between "upload finished" and "event
// published" still ends in a transcoded video.

const bin = resolveBinaries({ ffmpegPath: null, ffprobePath: null });
let work: string;
let clip: string;
const servers: ServerProcess[] = [];

async function startServer(env: Record<string, string>): Promise<ServerProcess> {
  const server = await ServerProcess.start({ env: { PORT: "0", ...env } });
  servers.push(server);
  return server;
}

beforeAll(async () => {
  work = await fs.mkdtemp(path.join(os.tmpdir(), "reelkit-graceful-"));
  // 480p, 3 rungs: many seconds of encoding, so each stop lands mid-encode.
  clip = path.join(work, "clip.mp4");
  execFileSync(bin.ffmpeg, [
    ...["-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=854x480:rate=30:duration=20"],
    ...["-f", "lavfi", "-i", "sine=frequency=440:duration=20"],
    ...["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", clip],
  ]);
}, 60_000);

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.destroy()));
});

afterAll(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

describeWith("ffmpeg", null, "graceful stop of a real server process (embedded mode)", () => {
  it("hands the job back within seconds on SIGINT and on SIGTERM to the whole process group; the video ends READY", async () => {
    const dataDir = path.join(work, "embedded");
    let server = await startServer({ REELKIT_DATA_DIR: dataDir });
    const user = await signUp(server.base);
    const id = await uploadFile(server.base, await fs.readFile(clip), "Stopped twice", user.bearer);

    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      await waitForVideo(server.base, id, (v) => v.status === "READY" || v.progress >= 5, 60_000);
      expect((await getVideo(server.base, id)).status).toBe("PROCESSING");
      const groups = server.encoderGroups();
      expect(groups.length).toBeGreaterThan(0);

      const t0 = Date.now();
      const code = await server.signalGroup(signal);
      const stopMs = Date.now() - t0;
      expect(code, server.recentLog()).toBe(0);
      // Seconds, not the 10 s forced-exit watchdog (generous: the machine is shared).
      expect(stopMs).toBeLessThan(8_000);
      expect(server.recentLog()).toMatch(/handed the job back/);
      expect(server.recentLog()).not.toMatch(/forced exit/);
      // The encoder was stopped by its worker, not left behind.
      await vi.waitFor(() => expect(groups.filter(groupAlive)).toEqual([]), { timeout: 5_000 });

      server = await startServer({ REELKIT_DATA_DIR: dataDir });
      const after = await getVideo(server.base, id);
      expect(after.status).not.toBe("FAILED");
      expect(after.failureReason).toBeNull();
    }
    const video = await waitForVideo(server.base, id, settled, 240_000);
    expect(video.failureReason).toBeNull();
    expect(video.status).toBe("READY");
    expect(video.renditions.map((r) => r.height)).toEqual([480, 360, 180]);
  }, 400_000);
});

describeWith("postgres", postgresMissing, "crash between 'upload finished' and 'event published' (PostgreSQL)", () => {
  let tdb: TestDatabase;
  beforeAll(async () => {
    tdb = await createTestDatabase("postgres");
  }, 60_000);
  afterAll(async () => {
    await tdb?.dispose();
  });

  it("still transcodes the video after a SIGKILL while its event was being published", async () => {
    const url = tdb.url as string;
    const env = { DATABASE_URL: url, REELKIT_DATA_DIR: path.join(work, "pg-crash") };
    const first = await startServer(env);
    const user = await signUp(first.base);
    // Hold the job table: the relay's publish (an INSERT) waits, the upload itself goes through.
    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    await holder.query("BEGIN");
    await holder.query("LOCK TABLE bus_job IN SHARE MODE");
    try {
      const small = path.join(work, "small.mp4");
      execFileSync(bin.ffmpeg, [
        ...["-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25:duration=3"],
        ...["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", small],
      ]);
      const id = await uploadFile(first.base, await fs.readFile(small), "Crash before publish", user.bearer);
      expect((await getVideo(first.base, id)).status).toBe("QUEUED");
      // The relay has claimed the row and is inside publish.
      await vi.waitFor(
        async () => {
          const { rows } = await tdb.db.prisma.$queryRaw<
            { published_at: Date | null; claimed_by: string | null }[]
          >`SELECT published_at, claimed_by FROM outbox WHERE key = ${id}`.then((r) => ({ rows: r }));
          expect(rows[0]?.claimed_by).toBeTruthy();
          expect(rows[0]?.published_at).toBeNull();
        },
        { timeout: 10_000 },
      );
      await first.crash();
      // The dead server's INSERT never commits (its connection is gone).
      await holder.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE datname = current_database() AND pid <> pg_backend_pid() AND query ILIKE '%insert%bus_job%'`,
      );
      await holder.query("COMMIT");
      expect(await tdb.db.prisma.busJob.count({ where: { key: id } })).toBe(0);

      const second = await startServer(env);
      const video = await waitForVideo(second.base, id, settled, 120_000);
      expect(video.failureReason).toBeNull();
      expect(video.status).toBe("READY");
    } finally {
      await holder.end().catch(() => {});
    }
  }, 240_000);
});
