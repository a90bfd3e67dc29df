import { describe, expect, it } from "vitest";
import { formatAge, formatViews } from "./format.js";

describe("formatViews", () => {
  it("counts views in words and compact numbers", () => {
    expect(formatViews(0)).toBe("No views");
    expect(formatViews(1)).toBe("1 view");
    expect(formatViews(42)).toBe("42 views");
    expect(formatViews(1234)).toBe("1.2K views");
  });
});

describe("formatAge", () => {
  const now = Date.parse("2025-06-15T12:00:00Z");
  const ago = (seconds: number) => new Date(now - seconds * 1000).toISOString();

  it("says how long ago in the largest whole unit", () => {
    expect(formatAge(ago(20), now)).toBe("just now");
    expect(formatAge(ago(5 * 60), now)).toBe("5 minutes ago");
    expect(formatAge(ago(3 * 3600), now)).toBe("3 hours ago");
    expect(formatAge(ago(86_400 + 60), now)).toBe("yesterday");
    expect(formatAge(ago(15 * 86_400), now)).toBe("2 weeks ago");
    expect(formatAge(ago(800 * 86_400), now)).toBe("2 years ago");
  });
});
