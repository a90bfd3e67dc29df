import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeWith } from "../../../../test/engines.js";
import { defaultMigrationsDir } from "./migrate.js";
import { createTestDatabase, postgresMissing, type TestDatabase, type TestEngine } from "./test-databases.js";

interface ExpectedColumn {
  name: string;
  type: string;
  nullable: boolean;
}
interface ExpectedIndex {
  name: string;
  unique: boolean;
  method: string;
  /** What follows `USING method` in PostgreSQL's definition: `(columns)`, maybe INCLUDE and WHERE. */
  definition: string;
}
interface ExpectedTable {
  table: string;
  columns: ExpectedColumn[];
  indexes: ExpectedIndex[];
}

const SCALARS: Record<string, string> = {
  String: "text",
  Int: "integer",
  BigInt: "bigint",
  Float: "double precision",
  Boolean: "boolean",
  DateTime: "timestamp(3) without time zone",
  Json: "jsonb",
  Decimal: "numeric(65,30)",
  Bytes: "bytea",
};

/** Group `i` of a regexp match (always present for the groups used here). */
function g(m: RegExpExecArray | RegExpMatchArray, i: number): string {
  return m[i] ?? "";
}

/** A small parser for the subset of Prisma schema syntax Reelkit uses (no @prisma/internals installed). */
function parseSchema(source: string): ExpectedTable[] {
  const enums = new Set([...source.matchAll(/^enum\s+(\w+)/gm)].map((m) => g(m, 1)));
  const models = new Set([...source.matchAll(/^model\s+(\w+)/gm)].map((m) => g(m, 1)));
  const tables: ExpectedTable[] = [];
  for (const m of source.matchAll(/^model\s+(\w+)\s*\{([\s\S]*?)^\}/gm)) {
    const body = g(m, 2);
    const table = /@@map\("([^"]+)"\)/.exec(body)?.[1] ?? g(m, 1);
    const columns: ExpectedColumn[] = [];
    const indexes: ExpectedIndex[] = [];
    const dbName = new Map<string, string>();
    for (const raw of body.split("\n")) {
      const line = raw.replace(/\/\/.*$/, "").trim();
      if (!line || line.startsWith("@@")) continue;
      const f = /^(\w+)\s+(\w+)(?:\("([^"]+)"\))?(\[\])?(\?)?\s*(.*)$/.exec(line);
      if (!f) continue;
      // Relation fields (another model, or a list of one) are no columns; their foreign key is.
      if (models.has(g(f, 2))) continue;
      const [field, type, unsupported, list, optional, attrs] = [g(f, 1), g(f, 2), f[3], f[4], f[5], g(f, 6)];
      const name = /@map\("([^"]+)"\)/.exec(attrs)?.[1] ?? field;
      dbName.set(field, name);
      let pgType = unsupported ?? (enums.has(type) ? type : (SCALARS[type] ?? `unknown ${type}`));
      if (list) pgType = `${pgType}[]`;
      if (/@db\.Uuid/.test(attrs)) pgType = "uuid";
      const tz = /@db\.Timestamptz\((\d+)\)/.exec(attrs);
      if (tz) pgType = `timestamp(${tz[1]}) with time zone`;
      columns.push({ name, type: pgType, nullable: optional === "?" && !list });
      if (/@id\b/.test(attrs))
        indexes.push({ name: `${table}_pkey`, unique: true, method: "btree", definition: `(${name})` });
      if (/@unique\b/.test(attrs))
        indexes.push({ name: `${table}_${name}_key`, unique: true, method: "btree", definition: `(${name})` });
    }
    for (const idx of body.matchAll(/@@(index|unique)\(\[([^\]]*(?:\([^)]*\)[^\]]*)*)\](.*)\)\s*$/gm)) {
      const args = g(idx, 3);
      const cols = g(idx, 2)
        .split(/,(?![^(]*\))/)
        .map((c) => {
          const cm = /(\w+)(?:\((.*)\))?/.exec(c.trim());
          if (!cm) throw new Error(`cannot parse index column ${c}`);
          const col = dbName.get(g(cm, 1)) ?? g(cm, 1);
          const desc = /sort:\s*Desc/.test(g(cm, 2)) ? " DESC" : "";
          const ops = /ops:\s*raw\("([^"]+)"\)/.exec(g(cm, 2))?.[1];
          return `${col}${ops ? ` ${ops}` : ""}${desc}`;
        });
      const map = /map:\s*"([^"]+)"/.exec(args)?.[1];
      const method = (/type:\s*(\w+)/.exec(args)?.[1] ?? "btree").toLowerCase();
      const unique = g(idx, 1) === "unique";
      const fallback = `${table}_${cols.map((c) => c.split(" ")[0]).join("_")}_${unique ? "key" : "idx"}`;
      indexes.push({ name: map ?? fallback, unique, method, definition: `(${cols.join(", ")})` });
    }
    // Indexes Prisma cannot express, named in a comment as PostgreSQL prints them.
    for (const raw of body.matchAll(/^\s*\/\/ raw-index (\S+) USING (\w+) (.+)$/gm)) {
      indexes.push({ name: g(raw, 1), unique: false, method: g(raw, 2), definition: g(raw, 3).trim() });
    }
    tables.push({ table, columns, indexes });
  }
  return tables;
}

const schemaPath = path.join(path.dirname(defaultMigrationsDir()), "schema.prisma");
const expected = parseSchema(readFileSync(schemaPath, "utf8"));

function suite(engine: TestEngine) {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase(engine);
  }, 60_000);
  afterAll(async () => {
    await t?.dispose();
  });

  it("parses every model from schema.prisma", () => {
    expect(expected.map((e) => e.table).sort()).toEqual([
      "api_key",
      "auth_account",
      "auth_jwks",
      "auth_rate_limit",
      "auth_session",
      "auth_user",
      "auth_verification",
      "bus_job",
      "outbox",
      "upload_token",
      "video",
      "webhook_delivery",
      "webhook_endpoint",
    ]);
  });

  it("has exactly the schema's tables", async () => {
    const rows = await t.db.prisma.$queryRawUnsafe<{ table_name: string }[]>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_name <> '_prisma_migrations' ORDER BY 1`,
    );
    expect(rows.map((r) => r.table_name)).toEqual(expected.map((e) => e.table).sort());
  });

  for (const model of expected) {
    it(`table ${model.table}: columns, types and nullability match`, async () => {
      const rows = await t.db.prisma.$queryRawUnsafe<{ column_name: string; type: string; nullable: boolean }[]>(
        `SELECT a.attname AS column_name, format_type(a.atttypid, a.atttypmod) AS type, NOT a.attnotnull AS nullable
           FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = current_schema() AND c.relname = $1 AND a.attnum > 0 AND NOT a.attisdropped
          ORDER BY a.attnum`,
        model.table,
      );
      const actual = rows.map((r) => ({
        name: r.column_name,
        type: r.type.replace(/^"(.*)"$/, "$1"),
        nullable: r.nullable,
      }));
      expect(actual).toEqual(model.columns);
    });

    it(`table ${model.table}: indexes match`, async () => {
      const rows = await t.db.prisma.$queryRawUnsafe<{ indexname: string; indexdef: string }[]>(
        `SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = $1`,
        model.table,
      );
      const actual = rows
        .map((r) => {
          const m = /^CREATE (UNIQUE )?INDEX (\S+) ON \S+ USING (\w+) (\(.*)$/.exec(r.indexdef);
          if (!m) throw new Error(`unparsed index ${r.indexdef}`);
          return { name: g(m, 2), unique: Boolean(m[1]), method: g(m, 3), definition: g(m, 4) };
        })
        .sort((a, b) => String(a.name).localeCompare(String(b.name)));
      expect(actual).toEqual([...model.indexes].sort((a, b) => a.name.localeCompare(b.name)));
    });
  }

  it("has the pg_trgm extension", async () => {
    const rows = await t.db.prisma.$queryRawUnsafe<{ extname: string }[]>(
      `SELECT extname FROM pg_extension WHERE extname = 'pg_trgm'`,
    );
    expect(rows).toHaveLength(1);
  });
}

describe("schema matches schema.prisma (embedded PostgreSQL)", () => suite("embedded"));
describeWith("postgres", postgresMissing, "schema matches schema.prisma (PostgreSQL)", () => suite("postgres"));
