import { describe, expect, it } from "vitest";
import { LADDER_NICE, PLAYABLE_NICE, PLAYING_NICE, playableNice } from "./priorities.js";

/** The kernel's CPU weight of a niceness: 1024 at 0, 1.25× less per level. */
const weight = (nice: number) => 1024 / 1.25 ** nice;

describe("encode priorities", () => {
  it("gives an owner's only playable phase the highest priority, and each further one less", () => {
    expect(playableNice(0)).toBe(PLAYABLE_NICE);
    const nices = Array.from({ length: 50 }, (_, i) => playableNice(i));
    for (let i = 1; i < nices.length; i++) expect(nices[i]).toBeGreaterThanOrEqual(nices[i - 1] as number);
    expect(playableNice(1)).toBeGreaterThan(PLAYABLE_NICE);
  });

  it("keeps every video not yet playable above the rest of those that play, and those above ladders", () => {
    for (let i = 0; i < 1000; i += 7) expect(playableNice(i)).toBeLessThan(PLAYING_NICE);
    expect(PLAYING_NICE).toBeLessThan(LADDER_NICE);
    expect(LADDER_NICE).toBeLessThanOrEqual(19);
  });

  it("lets another owner's single upload encode at a fair part of the CPU beside a burst of eight", () => {
    const burst = Array.from({ length: 8 }, (_, i) => weight(playableNice(i))).reduce((a, b) => a + b, 0);
    const other = weight(playableNice(0));
    // Equal priorities would leave it a ninth; here it gets more than a quarter.
    expect(other / (burst + other)).toBeGreaterThan(0.25);
    // The owner's second phase weighs about half its first.
    expect(weight(playableNice(1)) / weight(playableNice(0))).toBeCloseTo(0.5, 1);
  });
});
