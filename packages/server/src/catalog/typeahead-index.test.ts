import { describe, expect, it } from "vitest";
import { SEARCH_CANDIDATES } from "./catalog-query.js";
import { compareCodePoints, TypeaheadIndex, type TypeaheadTitle } from "./typeahead-index.js";

const entry = (title: string, views = 0, videos = 1): TypeaheadTitle => ({
  title,
  folded: title.toLowerCase(),
  views,
  videos,
});

describe("TypeaheadIndex", () => {
  it("orders by code points, as UTF-8 bytes sort (not UTF-16 code units)", () => {
    // U+FF21 (fullwidth A) is below U+1F600 (an emoji) in code points, above it in UTF-16 units.
    expect(compareCodePoints("\uff21", "\u{1f600}")).toBeLessThan(0);
    expect("\uff21" < "\u{1f600}").toBe(false);
    expect(compareCodePoints("abc", "abd")).toBeLessThan(0);
    expect(compareCodePoints("ab", "abc")).toBeLessThan(0);
    expect(compareCodePoints("same", "same")).toBe(0);
  });

  it("answers a prefix with its titles, most viewed first, then by title; every match when they are few", () => {
    const index = new TypeaheadIndex([
      entry("Harbour at dawn", 5),
      entry("harbour at Dusk", 9),
      entry("Harbor tour", 9),
      entry("Hill walk", 100),
      entry("港の朝", 1),
    ]);
    expect(index.size).toBe(5);
    expect(index.suggest("harb", 8)).toEqual({
      titles: ["Harbor tour", "harbour at Dusk", "Harbour at dawn"],
      folded: ["harbor tour", "harbour at dusk", "harbour at dawn"],
    });
    expect(index.suggest("HARBOUR AT D", 1)?.titles).toEqual(["harbour at Dusk", "Harbour at dawn"]);
    expect(index.suggest("港", 8)?.titles).toEqual(["港の朝"]);
    expect(index.suggest("zz", 8)).toEqual({ titles: [], folded: [] });
    // Folded by the database's locale: not answered here.
    expect(index.suggest("hár", 8)).toBeNull();
  });

  it("takes the first SEARCH_CANDIDATES videos in prefix order, as the database query does", () => {
    const many = Array.from({ length: SEARCH_CANDIDATES + 10 }, (_, i) =>
      entry(`clip ${String(i).padStart(5, "0")}`, i % 7),
    );
    const index = new TypeaheadIndex(many);
    const answer = index.suggest("clip", 20);
    // Not every match: the first `take`, no folded titles (nothing can be narrowed from it).
    expect(answer?.titles).toHaveLength(20);
    expect(answer?.folded).toBeUndefined();
    // Ranked among the first SEARCH_CANDIDATES only: "clip 01005" (views 4) is past them.
    expect(answer?.titles).not.toContain("clip 01005");
    expect(answer?.titles[0]).toBe("clip 00006");
    // Titles shared by several videos count each video.
    const shared = new TypeaheadIndex([entry("a", 1, SEARCH_CANDIDATES), entry("ab", 2)]);
    expect(shared.suggest("a", 8)).toEqual({ titles: ["a"] });
  });
});
