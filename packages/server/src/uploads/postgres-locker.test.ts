import pg from "pg";
import { afterEach, expect, it, vi } from "vitest";
import { describeWith } from "../../../../test/engines.js";
import { postgresMissing } from "../db/test-databases.js";
import { PostgresLocker } from "./postgres-locker.js";

const url = process.env.DATABASE_URL_TEST ?? "";

describeWith("postgres", postgresMissing, "PostgresLocker (tus locks shared by server instances)", () => {
  const lockers: PostgresLocker[] = [];
  const open = async (opts: { acquireLockTimeoutMs?: number; applicationName?: string } = {}) => {
    const locker = new PostgresLocker({ connectionString: url, ...opts });
    await locker.start();
    lockers.push(locker);
    return locker;
  };
  afterEach(async () => {
    await Promise.all(lockers.splice(0).map((l) => l.close()));
  });
  const id = () => `upload-${Math.random().toString(36).slice(2)}`;

  it("asks the holder on another instance to let go, then hands the lock over", async () => {
    const [a, b] = [await open(), await open()];
    const upload = id();
    const lockA = a.newLock(upload);
    const order: string[] = [];
    await lockA.lock(new AbortController().signal, () => {
      // tus ends the holding request, which unlocks.
      order.push("A asked to release");
      setTimeout(() => {
        order.push("A unlocks");
        void lockA.unlock();
      }, 200);
    });
    const lockB = b.newLock(upload);
    await lockB.lock(new AbortController().signal, () => {});
    order.push("B holds");
    expect(order).toEqual(["A asked to release", "A unlocks", "B holds"]);
    await lockB.unlock();
    // Free again for anyone.
    const again = a.newLock(upload);
    await again.lock(new AbortController().signal, () => {});
    await again.unlock();
  });

  it("serialises two requests of one instance although advisory locks are re-entrant", async () => {
    const a = await open();
    const upload = id();
    const first = a.newLock(upload);
    let askedFirst = 0;
    await first.lock(new AbortController().signal, () => {
      askedFirst++;
    });
    let secondHeld = false;
    const second = a.newLock(upload);
    const pending = second
      .lock(new AbortController().signal, () => {})
      .then(() => {
        secondHeld = true;
      });
    await vi.waitFor(() => expect(askedFirst).toBeGreaterThan(0));
    await new Promise((r) => setTimeout(r, 300));
    expect(secondHeld).toBe(false);
    await first.unlock();
    await pending;
    expect(secondHeld).toBe(true);
    await second.unlock();
  });

  it("gives up after the acquire timeout, or when the waiting request is aborted", async () => {
    const [a, b] = [await open(), await open({ acquireLockTimeoutMs: 600 })];
    const upload = id();
    const held = a.newLock(upload);
    await held.lock(new AbortController().signal, () => {}); // a holder that never lets go
    const started = Date.now();
    await expect(b.newLock(upload).lock(new AbortController().signal, () => {})).rejects.toMatchObject({
      status_code: 500,
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(500);
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 100);
    await expect(b.newLock(upload).lock(abort.signal, () => {})).rejects.toBeDefined();
    await held.unlock();
    const now = b.newLock(upload);
    await now.lock(new AbortController().signal, () => {});
    await now.unlock();
  });

  it("stops every request holding a lock when its connection drops, and the locks are free elsewhere", async () => {
    const name = `reelkit-locker-test-${Math.random().toString(36).slice(2)}`;
    const [a, b] = [await open({ applicationName: name }), await open()];
    const uploads = [id(), id()];
    const asked: string[] = [];
    for (const u of uploads) {
      await a.newLock(u).lock(new AbortController().signal, () => {
        asked.push(u);
      });
    }
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      // Kill A's lock session, as a network cut or a database failover would.
      const { rowCount } = await admin.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
        [name],
      );
      expect(rowCount).toBe(1);
    } finally {
      await admin.end();
    }
    await vi.waitFor(() => expect(asked.sort()).toEqual([...uploads].sort()));
    for (const u of uploads) {
      const lock = b.newLock(u);
      await lock.lock(new AbortController().signal, () => {});
      await lock.unlock();
    }
    // A reconnects for its next lock.
    const next = a.newLock(id());
    await next.lock(new AbortController().signal, () => {});
    await next.unlock();
  });
});
