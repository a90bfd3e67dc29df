import { describe, expect, it } from "vitest";
import { planClaims, queuePositions, type SchedulePolicy, scheduleOrder, type WaitingJob } from "./fair-schedule.js";

const PLAYABLE = "video.uploaded";
const LADDER = "video.transcode.ladder";
const policy: SchedulePolicy = { phases: [PLAYABLE, LADDER] };
let seq = 0;
const job = (owner: string, topic = PLAYABLE): WaitingJob => {
  seq++;
  return { id: `${owner}-${topic === PLAYABLE ? "p" : "l"}-${seq}`, topic, owner, seq };
};
const ids = (jobs: readonly WaitingJob[]) => jobs.map((j) => j.id);

describe("scheduleOrder", () => {
  it("puts every playable phase before any ladder phase, whatever their age", () => {
    const ladders = [job("a", LADDER), job("b", LADDER)];
    const playables = [job("c"), job("d")];
    const order = scheduleOrder({ waiting: [...ladders, ...playables], running: [], policy });
    expect(ids(order)).toEqual([...ids(playables), ...ids(ladders)]);
  });

  it("lets a single upload from another owner go before a burst of 50 queued earlier", () => {
    const burst = Array.from({ length: 50 }, () => job("alice"));
    const single = job("bob");
    const order = scheduleOrder({ waiting: [...burst, single], running: [], policy });
    expect(order.indexOf(single)).toBe(0);
    // The same while one of the burst runs.
    const running = [{ topic: PLAYABLE, owner: "alice" }];
    expect(scheduleOrder({ waiting: [...burst.slice(1), single], running, policy })[0]).toBe(single);
    // The burst keeps its own order.
    expect(ids(order.filter((j) => j.owner === "alice"))).toEqual(ids(burst));
  });

  it("counts what an owner already runs: an owner with two running waits behind one with none", () => {
    const a = job("alice");
    const b = job("bob");
    const running = [
      { topic: PLAYABLE, owner: "alice" },
      { topic: PLAYABLE, owner: "alice" },
    ];
    expect(ids(scheduleOrder({ waiting: [a, b], running, policy }))).toEqual([b.id, a.id]);
    // A running ladder does not count against the playable phase.
    expect(ids(scheduleOrder({ waiting: [a, b], running: [{ topic: LADDER, owner: "alice" }], policy }))).toEqual([
      a.id,
      b.id,
    ]);
  });

  it("gives an owner with share 3 three turns for every one of a share-1 owner", () => {
    const small = Array.from({ length: 6 }, () => job("small"));
    const big = Array.from({ length: 6 }, () => job("big"));
    const order = scheduleOrder({
      waiting: [...small, ...big],
      running: [],
      policy: { ...policy, shares: { big: 3 } },
    });
    expect(order.slice(0, 8).map((j) => j.owner)).toEqual(["big", "small", "big", "big", "big", "small", "big", "big"]);
  });

  it("places topics it does not know after the phases", () => {
    const other = job("a", "video.other");
    const ladder = job("a", LADDER);
    expect(ids(scheduleOrder({ waiting: [other, ladder], running: [], policy }))).toEqual([ladder.id, other.id]);
  });
});

describe("planClaims", () => {
  it("claims within the free slots of each phase and the limit", () => {
    const waiting = [job("a"), job("b"), job("c"), job("a", LADDER)];
    const claimed = planClaims({ waiting, running: [], policy, limit: 2, free: { [PLAYABLE]: 5, [LADDER]: 1 } });
    expect(ids(claimed)).toEqual(ids(waiting.slice(0, 2)));
  });

  it("starts no ladder while a playable phase waits for a slot", () => {
    const playable = job("a");
    const ladder = job("b", LADDER);
    const claim = (free: Record<string, number>) =>
      ids(planClaims({ waiting: [playable, ladder], running: [], policy, limit: 4, free }));
    expect(claim({ [PLAYABLE]: 0, [LADDER]: 1 })).toEqual([]);
    expect(claim({ [PLAYABLE]: 1, [LADDER]: 1 })).toEqual([playable.id, ladder.id]);
    expect(
      ids(planClaims({ waiting: [ladder], running: [], policy, limit: 4, free: { [PLAYABLE]: 0, [LADDER]: 1 } })),
    ).toEqual([ladder.id]);
  });

  it("keeps the reserved slots for owners running none of the phase", () => {
    const burst = Array.from({ length: 10 }, () => job("alice"));
    const claim = (waiting: WaitingJob[], running: { topic: string; owner: string }[], free: number) =>
      ids(planClaims({ waiting, running, policy, limit: 20, free: { [PLAYABLE]: free }, reserve: { [PLAYABLE]: 2 } }));
    // Ten free slots: alice's burst takes eight, two stay free.
    expect(claim(burst, [], 10)).toEqual(ids(burst.slice(0, 8)));
    // A lone first job of an owner may take a reserved slot…
    const running = burst.slice(0, 8).map(() => ({ topic: PLAYABLE, owner: "alice" }));
    const bob = job("bob");
    expect(claim([...burst.slice(8), bob], running, 2)).toEqual([bob.id]);
    // …but only one: the second reserved slot is for yet another owner.
    const bob2 = job("bob");
    const carol = job("carol");
    expect(claim([...burst.slice(8), bob2, carol], [...running, { topic: PLAYABLE, owner: "bob" }], 1)).toEqual([
      carol.id,
    ]);
    // An owner with nothing running may take one reserved slot, not two.
    expect(claim([job("dave"), job("dave"), job("dave")], [], 2)).toHaveLength(1);
    // No reserve: every slot for the burst.
    expect(ids(planClaims({ waiting: burst, running: [], policy, limit: 20, free: { [PLAYABLE]: 10 } }))).toEqual(
      ids(burst),
    );
    // A ladder does not start while a playable phase waits for a slot it may not take.
    const ladder = job("erin", LADDER);
    expect(
      ids(
        planClaims({
          waiting: [burst[9] as WaitingJob, ladder],
          running,
          policy,
          limit: 20,
          free: { [PLAYABLE]: 2, [LADDER]: 1 },
          reserve: { [PLAYABLE]: 2 },
        }),
      ),
    ).toEqual([]);
  });

  it("numbers the queue in schedule order", () => {
    const l = job("a", LADDER);
    const p = job("b");
    expect(queuePositions({ waiting: [l, p], running: [], policy })).toEqual(
      new Map([
        [p.id, 1],
        [l.id, 2],
      ]),
    );
  });
});
