import { describe, expect, expectTypeOf, it } from "vitest";
import { type Config, loadConfig } from "./config.js";
import {
  DEFAULT_RUNGS,
  DEFAULT_SEARCH_LANGUAGE,
  KNOWN_REELKIT_VARIABLES,
  VARIABLES,
  type Variable,
} from "./config-variables.js";

const declared = Object.entries(VARIABLES) as [string, Variable][];

describe("VARIABLES, the one declaration of each configuration variable", () => {
  it("sets every field of the loaded config but the ones read from several variables", () => {
    const fields = declared.flatMap(([, v]) => (v.field ? [v.field] : []));
    expect(new Set(fields).size).toBe(fields.length);
    expect(Object.keys(loadConfig({})).sort()).toEqual([...fields, "google", "oidc", "storage"].sort());
  });

  it("knows every declared REELKIT_* name, and only those", () => {
    for (const name of KNOWN_REELKIT_VARIABLES) expect(() => loadConfig({ [name]: "" }), name).not.toThrow();
    expect([...KNOWN_REELKIT_VARIABLES]).toEqual(
      declared.map(([name]) => name).filter((n) => n.startsWith("REELKIT_")),
    );
    expect(() => loadConfig({ REELKIT_RUNG: "720" })).toThrow(/^REELKIT_RUNG: unknown variable/);
  });

  it("gives each field its parsed default when the variable is unset or empty", () => {
    const unset = loadConfig({}, "/srv");
    const empty = loadConfig(Object.fromEntries(declared.map(([name]) => [name, " "])), "/srv");
    for (const [name, variable] of declared) {
      if (!variable.field) continue;
      const expected =
        variable.default === undefined ? null : variable.parse?.(variable.default, { variable: name, cwd: "/srv" });
      expect(unset[variable.field as keyof Config], name).toEqual(expected);
      expect(empty[variable.field as keyof Config], name).toEqual(expected);
    }
  });

  it("states the unit of each duration in its field's name", () => {
    for (const [name, variable] of declared) {
      if (variable.unit === "seconds") expect(variable.field, name).toMatch(/Seconds$/);
      if (variable.unit === "ms") expect(variable.field, name).toMatch(/Ms$/);
      if (variable.field?.endsWith("Seconds")) expect(variable.unit, name).toBe("seconds");
      if (variable.field?.endsWith("Ms")) expect(variable.unit, name).toBe("ms");
    }
    expect(loadConfig({ REELKIT_JOB_BACKOFF: "3" }).jobBackoffMs).toBe(3000);
    expect(loadConfig({ REELKIT_MEDIA_URL_TTL: "3" }).mediaUrlTtlSeconds).toBe(3);
  });

  it("documents every variable once: its own table row, or a row declared before it", () => {
    const seen = new Set<string>();
    for (const [name, variable] of declared) {
      if ("row" in variable) expect(seen.has(variable.row), `${name} → ${variable.row}`).toBe(true);
      else expect(variable.doc.length, name).toBeGreaterThan(0);
      seen.add(name);
    }
  });

  it("exports the defaults other packages fall back on", () => {
    expect(DEFAULT_RUNGS).toEqual([1080, 720, 480, 360, 180]);
    expect(DEFAULT_SEARCH_LANGUAGE).toBe("simple");
    expect(loadConfig({ REELKIT_LOG_LEVEL: "", LOG_LEVEL: "Debug" }).logLevel).toBe("debug");
  });

  it("types each field from its parser and default", () => {
    const config = loadConfig({});
    expectTypeOf(config.port).toEqualTypeOf<number>();
    expectTypeOf(config.publicUrl).toEqualTypeOf<string | null>();
    expectTypeOf(config.rungs).toEqualTypeOf<number[]>();
    expectTypeOf(config.logLevel).toEqualTypeOf<"fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent">();
    expectTypeOf(config.transcoder).toEqualTypeOf<"inline" | "off">();
    expectTypeOf(config.trustProxy).toEqualTypeOf<boolean | number | string[]>();
  });
});
