import { QueueBus } from "@reelkit/core";
import { afterAll, describe, expect, it, vi } from "vitest";
import { describeWith } from "../../../../test/engines.js";
import { queueBusSuite } from "../../../../test/queue-bus-suite.js";
import { PostgresChangeFeed } from "../db/change-feed.js";
import { createTestDatabase, postgresMissing, type TestDatabase, type TestEngine } from "../db/test-databases.js";
import { JOB_CHANNEL, SqlJobStore } from "./sql-job-store.js";

function suite(engine: TestEngine): () => void {
  return () => {
    let tdb: TestDatabase | null = null;
    afterAll(async () => {
      await tdb?.dispose();
    });
    queueBusSuite(async () => {
      tdb ??= await createTestDatabase(engine);
      const prisma = tdb.db.prisma;
      const store = new SqlJobStore(prisma);
      return {
        store,
        bus: (o) => new QueueBus({ store, pollMs: 20, ...o }),
        async steal(key) {
          await prisma.$executeRaw`UPDATE bus_job SET lease_owner = 'thief', lease_until = now() + interval '1 minute' WHERE key = ${key}`;
        },
        async parked(key) {
          const rows = await prisma.$queryRaw<{ last_error: string | null }[]>`
            SELECT last_error FROM bus_job WHERE key = ${key} AND parked_at IS NOT NULL ORDER BY id`;
          return rows.map((r) => r.last_error ?? "");
        },
      };
    });

    it("wakes an idle consumer at once for a job another instance published (LISTEN/NOTIFY)", async () => {
      tdb ??= await createTestDatabase(engine);
      // Counts the claims that found nothing: once one has, the consumer idles until its next poll.
      const store = new (class extends SqlJobStore {
        emptyClaims = 0;
        override async claim(o: Parameters<SqlJobStore["claim"]>[0]) {
          const jobs = await super.claim(o);
          if (jobs.length === 0) this.emptyClaims++;
          return jobs;
        }
      })(tdb.db.prisma);
      const wakeups = new PostgresChangeFeed(tdb.db.url, undefined, JOB_CHANNEL);
      await wakeups.start();
      // Its own next poll comes after ten minutes: only the notification can bring the job sooner.
      const consumer = new QueueBus({ store, pollMs: 600_000, wakeups });
      const elsewhere = new QueueBus({ store });
      try {
        const got: string[] = [];
        await consumer.subscribe("woken", {
          "video.uploaded": async (p) => {
            got.push(p.videoId);
          },
        });
        await vi.waitFor(() => expect(store.emptyClaims).toBeGreaterThan(0));
        const videoId = `woken-${Date.now()}`;
        await elsewhere.publish("video.uploaded", { videoId, attempt: 1, sourceKey: `videos/${videoId}/source` });
        await vi.waitFor(() => expect(got).toEqual([videoId]), { timeout: 15_000, interval: 20 });
      } finally {
        await consumer.close();
        await elsewhere.close();
      }
    });
  };
}

describe("QueueBus on the database (embedded PostgreSQL)", suite("embedded"));
describeWith("postgres", postgresMissing, "QueueBus on the database (PostgreSQL)", suite("postgres"));
