import { describe, expect, it } from "vitest";
import { exposedGc, YoungCollector } from "./young-collector.js";

describe("YoungCollector", () => {
  it("collects once per `everyBytes` streamed, whatever the chunk sizes", () => {
    let collections = 0;
    const collector = new YoungCollector(100, () => collections++);
    for (let i = 0; i < 9; i++) collector.streamed(10);
    expect(collections).toBe(0);
    collector.streamed(10);
    expect(collections).toBe(1);
    collector.streamed(250);
    expect(collections).toBe(2);
    for (let i = 0; i < 10; i++) collector.streamed(10);
    expect(collections).toBe(3);
  });

  it("runs V8's young-generation collection without --expose-gc", () => {
    const gc = exposedGc();
    expect(() => gc({ type: "minor", execution: "sync" })).not.toThrow();
    const collector = new YoungCollector(1);
    expect(() => collector.streamed(1)).not.toThrow();
  });
});
