import { describe, expect, it } from "vitest";
import { waitingMessages } from "./kafka-backlog.js";

describe("waitingMessages", () => {
  it("counts all but the running head of each partition, and all but one lagging partition per member", () => {
    // Nothing behind: nothing waits.
    expect(waitingMessages({ lag: new Map([[0, 0]]), owners: [[0]] })).toBe(0);
    // One message, its partition's owner runs it.
    expect(waitingMessages({ lag: new Map([[0, 1]]), owners: [[0]] })).toBe(0);
    // Three in one partition: one runs, two wait.
    expect(waitingMessages({ lag: new Map([[0, 3]]), owners: [[0], [1]] })).toBe(2);
    // One member owns two lagging partitions: it runs one head, the other head waits.
    expect(
      waitingMessages({
        lag: new Map([
          [0, 1],
          [1, 1],
        ]),
        owners: [[0, 1], [2]],
      }),
    ).toBe(1);
    // Two members, one lagging partition each: both run.
    expect(
      waitingMessages({
        lag: new Map([
          [0, 1],
          [1, 1],
        ]),
        owners: [[0], [1]],
      }),
    ).toBe(0);
    // A partition nobody owns (mid-rebalance, no consumer): all of it waits.
    expect(waitingMessages({ lag: new Map([[0, 2]]), owners: [] })).toBe(2);
  });
});
