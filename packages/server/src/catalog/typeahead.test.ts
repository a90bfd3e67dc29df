import { describe, expect, it } from "vitest";
import { answerSize, foldsLikeTheDatabase, narrow } from "./typeahead.js";

describe("typeahead narrowing", () => {
  it("knows which prefixes fold in JavaScript as the database folds them", () => {
    for (const prefix of ["harbour", "HARBOUR 100%", "c:\\\\clips", "港の朝", "12 — 3", "snow_day"]) {
      expect(foldsLikeTheDatabase(prefix), prefix).toBe(true);
    }
    for (const prefix of ["Hárbour", "été", "Жизнь", "İstanbul", "straße"]) {
      expect(foldsLikeTheDatabase(prefix), prefix).toBe(false);
    }
  });

  it("keeps the titles whose folded form starts with the folded prefix, in their order", () => {
    const from = {
      titles: ["Harbour at dawn", "harbour at Dusk", "Harbor tour", "HARBOUR 100%"],
      folded: ["harbour at dawn", "harbour at dusk", "harbor tour", "harbour 100%"],
    };
    expect(narrow(from, "HARBOUR AT")).toEqual({
      titles: ["Harbour at dawn", "harbour at Dusk"],
      folded: ["harbour at dawn", "harbour at dusk"],
    });
    expect(narrow(from, "harbour 100%").titles).toEqual(["HARBOUR 100%"]);
    expect(narrow(from, "harbour_")).toEqual({ titles: [], folded: [] });
    expect(answerSize(from)).toBe(9);
    expect(answerSize({ titles: ["a", "b"] })).toBe(3);
  });
});
