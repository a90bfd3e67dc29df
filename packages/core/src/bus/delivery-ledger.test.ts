import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { LocalStorage } from "../storage/local-storage.js";
import { type DeliveryLedger, MemoryDeliveryLedger, StorageDeliveryLedger } from "./delivery-ledger.js";

const dir = await fs.mkdtemp(path.join(os.tmpdir(), "reelkit-ledger-test-"));
afterAll(() => fs.rm(dir, { recursive: true, force: true }));

describe.each([
  ["memory", () => new MemoryDeliveryLedger()],
  ["storage", () => new StorageDeliveryLedger(new LocalStorage(dir))],
] as [string, () => DeliveryLedger][])("%s delivery ledger", (_name, make) => {
  it("counts deliveries, keeps the last error, does not count a hand-back, and forgets", async () => {
    const ledger = make();
    const id = `reelkit-transcoder/video.uploaded/0/${Math.random()}`;
    expect(await ledger.begin(id)).toEqual({ attempts: 1, lastError: null });
    await ledger.failed(id, "disk full");
    expect(await ledger.begin(id)).toEqual({ attempts: 2, lastError: "disk full" });
    await ledger.handBack(id);
    expect(await ledger.begin(id)).toEqual({ attempts: 2, lastError: "disk full" });
    await ledger.forget(id);
    expect(await ledger.begin(id)).toEqual({ attempts: 1, lastError: null });
  });
});

it("a storage ledger is shared by every process on the same storage", async () => {
  const id = "g/topic/3/42";
  await new StorageDeliveryLedger(new LocalStorage(dir)).begin(id);
  expect(await new StorageDeliveryLedger(new LocalStorage(dir)).begin(id)).toMatchObject({ attempts: 2 });
  expect((await new LocalStorage(dir).list("bus/deliveries/")).map((o) => o.key)).toContain(
    "bus/deliveries/g-topic-3-42.json",
  );
});

it("a storage ledger keeps no record for a delivery taken back before any other (a revoked first delivery)", async () => {
  const storage = new LocalStorage(dir);
  const ledger = new StorageDeliveryLedger(storage);
  const id = "g/topic/1/7";
  await ledger.begin(id);
  await ledger.handBack(id);
  expect((await storage.list("bus/deliveries/")).map((o) => o.key)).not.toContain("bus/deliveries/g-topic-1-7.json");
  // Taken back after its next owner had already forgotten it (acknowledged): still nothing left.
  await ledger.handBack(id);
  expect((await storage.list("bus/deliveries/")).map((o) => o.key)).not.toContain("bus/deliveries/g-topic-1-7.json");
  expect(await ledger.begin(id)).toEqual({ attempts: 1, lastError: null });
});
