import { describe, expect, it } from "vitest";
import { titleFrom } from "./tus-lifecycle.js";

describe("titleFrom (tus Upload-Metadata)", () => {
  it("takes a valid visibility and the tags as the catalog stores them", () => {
    expect(titleFrom({ filename: "trip.mp4", visibility: "private", tags: " Sea, trip,,SEA " })).toEqual({
      title: "trip",
      description: "",
      filename: "trip.mp4",
      visibility: "PRIVATE",
      tags: ["sea", "trip"],
    });
  });

  it("ignores an unknown visibility and over-long tags (the server's defaults stay)", () => {
    const named = titleFrom({ title: "x", visibility: "everyone", tags: "a".repeat(41) });
    expect(named).toEqual({ title: "x", description: "", filename: null });
  });
});
