import { describe } from "vitest";
import { queueBusSuite } from "../../../../test/queue-bus-suite.js";
import { MemoryJobStore } from "./memory-job-store.js";
import { QueueBus } from "./queue-bus.js";

describe("QueueBus on the memory store", () => {
  queueBusSuite(async () => {
    const store = new MemoryJobStore();
    return {
      store,
      bus: (o) => new QueueBus({ store, pollMs: 20, ...o }),
      async steal(key) {
        store.takeOver(key, "thief");
      },
      async parked(key) {
        return store
          .parked()
          .filter((p) => p.key === key)
          .map((p) => p.error ?? "");
      },
    };
  });
});
