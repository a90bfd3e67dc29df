import { describe, expect, it } from "vitest";
import { clientIdWithSlots, memberSlots, waitingMessages } from "./kafka-backlog.js";

const lag = (...entries: [number, number][]) => new Map(entries);

describe("waitingMessages", () => {
  it("counts what is behind each member's committed offsets beyond the messages it runs at once", () => {
    // Nothing behind: nothing waits.
    expect(waitingMessages({ lag: lag([0, 0]), members: [{ partitions: [0], slots: 1 }] })).toBe(0);
    // One message, its partition's owner runs it.
    expect(waitingMessages({ lag: lag([0, 1]), members: [{ partitions: [0], slots: 1 }] })).toBe(0);
    // Three in one partition, a member running one at a time: two wait.
    expect(
      waitingMessages({
        lag: lag([0, 3]),
        members: [
          { partitions: [0], slots: 1 },
          { partitions: [1], slots: 1 },
        ],
      }),
    ).toBe(2);
    // The same three, a member with four slots: it runs all three (it reads past the first).
    expect(waitingMessages({ lag: lag([0, 3]), members: [{ partitions: [0], slots: 4 }] })).toBe(0);
    // A member with two slots owning two partitions with 3 + 2 behind: two run, three wait.
    expect(
      waitingMessages({
        lag: lag([0, 3], [1, 2]),
        members: [
          { partitions: [0, 1], slots: 2 },
          { partitions: [2], slots: 2 },
        ],
      }),
    ).toBe(3);
    // The idle member's free slots do not run the other member's messages.
    expect(
      waitingMessages({
        lag: lag([0, 3], [2, 0]),
        members: [
          { partitions: [0], slots: 1 },
          { partitions: [2], slots: 10 },
        ],
      }),
    ).toBe(2);
    // A partition nobody owns (mid-rebalance, no consumer): all of it waits.
    expect(waitingMessages({ lag: lag([0, 2]), members: [] })).toBe(2);
    // A partition two members claim (descriptions taken mid-rebalance) counts once.
    expect(
      waitingMessages({
        lag: lag([0, 2]),
        members: [
          { partitions: [0], slots: 1 },
          { partitions: [0], slots: 1 },
        ],
      }),
    ).toBe(1);
  });
});

describe("member slots in the client id", () => {
  it("reads back what a member announced, and one for a member that announced nothing", () => {
    expect(memberSlots(clientIdWithSlots("reelkit-host-123-abc", 10))).toBe(10);
    expect(memberSlots("reelkit-host-123-abc")).toBe(1);
    expect(memberSlots("reelkit.slots-0")).toBe(1);
    expect(memberSlots("reelkit.slots-x")).toBe(1);
  });
});
