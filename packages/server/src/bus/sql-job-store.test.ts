import { QueueBus } from "@reelkit/core";
import { afterAll, describe } from "vitest";
import { describeWith } from "../../../../test/engines.js";
import { queueBusSuite } from "../../../../test/queue-bus-suite.js";
import { createTestDatabase, postgresMissing, type TestDatabase, type TestEngine } from "../db/test-databases.js";
import { SqlJobStore } from "./sql-job-store.js";

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
      };
    });
  };
}

describe("QueueBus on the database (embedded PostgreSQL)", suite("embedded"));
describeWith("postgres", postgresMissing, "QueueBus on the database (PostgreSQL)", suite("postgres"));
