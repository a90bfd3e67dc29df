import { describe, expect, it } from "vitest";
import type { PrismaClient } from "../generated/prisma/client.js";
import { addressKey, VIEWS_PER_ADDRESS, ViewCounter } from "./view-counter.js";

// Recording never touches the database; only flush() does.
const noDatabase = {} as PrismaClient;

function countFrom(counter: ViewCounter, video: string, address: string, sessions: number): number {
  let counted = 0;
  for (let i = 0; i < sessions; i++) if (counter.record(video, `session-${address}-${i}`, address)) counted++;
  return counted;
}

describe("ViewCounter", () => {
  it("counts at most a few views per address and video, whatever the session ids", () => {
    const counter = new ViewCounter(noDatabase);
    expect(VIEWS_PER_ADDRESS).toBe(3);
    expect(countFrom(counter, "v1", "198.51.100.7", 100)).toBe(3);
    // The same address still counts for another video, and other addresses for this one.
    expect(countFrom(counter, "v2", "198.51.100.7", 100)).toBe(3);
    for (let i = 1; i <= 20; i++)
      expect(counter.record("v1", `fresh-${i}`, `203.0.113.${i}`), `client ${i}`).toBe(true);
    // A session already counted is not counted again, from any address.
    expect(counter.record("v1", "fresh-1", "192.0.2.1")).toBe(false);
  });

  it("treats one IPv6 /64 as one client", () => {
    const counter = new ViewCounter(noDatabase);
    let counted = 0;
    for (let i = 1; i <= 50; i++) if (counter.record("v1", `s${i}`, `2001:db8:1:2::${i.toString(16)}`)) counted++;
    expect(counted).toBe(3);
    expect(counter.record("v1", "other-net", "2001:db8:1:3::1")).toBe(true);
  });

  it("opens a new window once the old one has passed", async () => {
    const counter = new ViewCounter(noDatabase, { addressWindowMs: 100 });
    expect(countFrom(counter, "v1", "198.51.100.7", 10)).toBe(3);
    await new Promise((r) => setTimeout(r, 150));
    expect(counter.record("v1", "after-the-window", "198.51.100.7")).toBe(true);
  });

  it("keeps the per-address limit bounded in memory: the least recently seen pairs are forgotten", () => {
    const counter = new ViewCounter(noDatabase, { maxAddresses: 2 });
    expect(countFrom(counter, "v1", "198.51.100.7", 10)).toBe(3);
    expect(counter.record("v1", "b", "198.51.100.8")).toBe(true);
    expect(counter.record("v1", "c", "198.51.100.9")).toBe(true);
    // Pushed out by the two newer pairs: the first address counts again.
    expect(counter.record("v1", "again", "198.51.100.7")).toBe(true);
  });
});

describe("addressKey", () => {
  it("keys IPv4 as is, IPv6 by its /64 and IPv4-mapped IPv6 as IPv4", () => {
    expect(addressKey("203.0.113.9")).toBe("203.0.113.9");
    expect(addressKey("::ffff:203.0.113.9")).toBe("203.0.113.9");
    expect(addressKey("2001:db8:0001:0002:aaaa:bbbb:cccc:dddd")).toBe("2001:db8:1:2::/64");
    expect(addressKey("2001:db8:1:2::1")).toBe("2001:db8:1:2::/64");
    expect(addressKey("2001:DB8::1")).toBe("2001:db8:0:0::/64");
    expect(addressKey("::1")).toBe("0:0:0:0::/64");
    expect(addressKey("fe80::1%eth0")).toBe("fe80:0:0:0::/64");
  });
});
