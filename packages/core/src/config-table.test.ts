import fs from "node:fs";
import { describe, expect, it } from "vitest";
import { renderConfigTable, TABLE_END, TABLE_START, withConfigTable } from "./config-table.js";

const PAGE = new URL("../../../docs/configuration.md", import.meta.url);

describe("the configuration table (docs/configuration.md)", () => {
  it("is the table generated from the declarations (else: npm run docs:config)", () => {
    const page = fs.readFileSync(PAGE, "utf8");
    expect(page).toContain(TABLE_START);
    expect(withConfigTable(page), "docs/configuration.md is out of date: run `npm run docs:config`").toBe(page);
  });

  it("has one row per variable or family, in declaration order", () => {
    const lines = renderConfigTable().split("\n");
    expect(lines[0]).toBe("| variable | default | meaning |");
    expect(lines).toContain("| `PORT` | `3000` | HTTP port |");
    expect(lines).toContain(
      '| `GOOGLE_CLIENT_ID`, `GOOGLE_CLIENT_SECRET` | — | both set: "Sign in with Google" (redirect URI `<origin>/api/auth/callback/google`) |',
    );
    expect(lines.some((l) => l.startsWith("| `REELKIT_LOG_LEVEL` (or `LOG_LEVEL`) | `info` |"))).toBe(true);
    expect(
      lines.some((l) =>
        l.startsWith("| `REELKIT_PG_PORT`, `REELKIT_KAFKA_PORT`, `REELKIT_S3_PORT` | `54329`, `59092`, `57070` |"),
      ),
    ).toBe(true);
    expect(lines.findIndex((l) => l.includes("`PORT`"))).toBeLessThan(lines.findIndex((l) => l.includes("`HOST`")));
  });

  it("replaces only what is between the markers", () => {
    const doc = `# Title\n\n${TABLE_START}\nstale\n${TABLE_END}\n\nAfter.\n`;
    expect(withConfigTable(doc)).toBe(`# Title\n\n${TABLE_START}\n${renderConfigTable()}\n${TABLE_END}\n\nAfter.\n`);
    expect(() => withConfigTable("# no markers")).toThrow(/config:start/);
  });
});
