import { describe, expect, it } from "vitest";
import { deriveHandle, HANDLE_PATTERN, normalizeHandle, withSuffix } from "./handles.js";

describe("handles", () => {
  it("normalizes to lower case and refuses what breaks the rule", () => {
    expect(normalizeHandle("  Alice_Films ")).toBe("alice_films");
    expect(normalizeHandle("ab")).toBeNull();
    expect(normalizeHandle("-alice")).toBeNull();
    expect(normalizeHandle("al ice")).toBeNull();
    expect(normalizeHandle("a".repeat(31))).toBeNull();
    expect(normalizeHandle("a".repeat(30))).toBe("a".repeat(30));
  });

  it("derives a valid handle from an address or a name", () => {
    expect(deriveHandle("Jane.Doe+videos@example.com")).toBe("jane-doe-videos");
    expect(deriveHandle("Zoë Müller")).toBe("zoe-muller");
    expect(deriveHandle("李")).toBe("user");
    expect(deriveHandle("a@x.org")).toBe("a00");
    expect(deriveHandle(`${"x".repeat(40)}@x.org`)).toHaveLength(24);
    for (const from of ["__a__@x", "-.-@x", "Ünïcödé", "a-b_c"]) expect(deriveHandle(from)).toMatch(HANDLE_PATTERN);
  });

  it("suffixes stay within the rule", () => {
    expect(withSuffix("alice", 1)).toBe("alice");
    expect(withSuffix("alice", 2)).toBe("alice-2");
    expect(withSuffix("x".repeat(24), 99_999)).toMatch(HANDLE_PATTERN);
  });
});
