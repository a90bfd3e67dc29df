import { VARIABLES, type Variable } from "./config-variables.js";

/** The configuration table (docs/configuration.md) sits between these markers; scripts/config-docs.ts rewrites it. */
export const TABLE_START =
  "<!-- config:start (generated from packages/core/src/config-variables.ts: npm run docs:config) -->";
export const TABLE_END = "<!-- config:end -->";

interface Row {
  names: string[];
  defaults: string[];
  doc: string;
  more: boolean;
}

const code = (s: string) => `\`${s}\``;

function defaultCell(variable: Variable): string {
  if (variable.defaultDoc !== undefined) return variable.defaultDoc;
  return variable.default ? code(variable.default) : "—";
}

/** The configuration table in Markdown, one row per variable or family of variables. */
export function renderConfigTable(): string {
  const rows = new Map<string, Row>();
  for (const [name, variable] of Object.entries(VARIABLES) as [string, Variable][]) {
    const label = variable.alias ? `${code(name)} (or ${code(variable.alias)})` : code(name);
    if ("row" in variable) {
      const row = rows.get(variable.row);
      if (!row) throw new Error(`${name}: documented on the row of ${variable.row}, which is not declared before it`);
      row.names.push(label);
      row.defaults.push(defaultCell(variable));
    } else {
      rows.set(name, { names: [label], defaults: [defaultCell(variable)], doc: variable.doc, more: !!variable.more });
    }
  }
  const lines = ["| variable | default | meaning |", "|---|---|---|"];
  for (const row of rows.values()) {
    const names = row.names.join(", ") + (row.more ? ", …" : "");
    const defaults = new Set(row.defaults).size === 1 ? row.defaults[0] : row.defaults.join(", ");
    lines.push(`| ${names} | ${defaults} | ${row.doc} |`);
  }
  return lines.join("\n");
}

/** `page` with the text between the markers replaced by the current table. */
export function withConfigTable(page: string): string {
  const start = page.indexOf(TABLE_START);
  const end = page.indexOf(TABLE_END);
  if (start === -1 || end < start) throw new Error(`expected ${TABLE_START} … ${TABLE_END}`);
  return `${page.slice(0, start + TABLE_START.length)}\n${renderConfigTable()}\n${page.slice(end)}`;
}
