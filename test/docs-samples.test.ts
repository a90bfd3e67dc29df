import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { beforeAll, describe, expect, it } from "vitest";
import { type CodeBlock, codeBlocks, docFiles, fragmentReason } from "./doc-samples.js";

/**
 * Every ```ts and ```tsx sample of the README, docs/ and the packages' READMEs is a program that
 * type-checks with the repository's strict settings against the workspace packages' sources, as
 * a site that installed them would compile it. A sample that is only part of a program is marked
 * ```ts fragment: <why>, and is listed as skipped with that reason.
 */

const root = fileURLToPath(new URL("..", import.meta.url));
// Inside the repository, so that `react` and the other dependencies resolve from node_modules.
const scratch = path.join(root, "node_modules/.cache/reelkit-doc-samples");

const blocks: CodeBlock[] = docFiles(root).flatMap((file) =>
  codeBlocks(file, fs.readFileSync(path.join(root, file), "utf8")).filter((b) => b.lang === "ts" || b.lang === "tsx"),
);
const programs = blocks.filter((b) => fragmentReason(b) === null);
const fragments = blocks.filter((b) => fragmentReason(b) !== null);
const sampleFile = (b: CodeBlock) =>
  path.join(scratch, `${b.file.replace(/[^\w]+/g, "-")}-${b.line}.${b.lang === "tsx" ? "tsx" : "ts"}`);
const label = (b: CodeBlock) => `${b.file}:${b.line} (${b.lang})`;

/** Diagnostics by file: the line within the sample (1 = the line after the fence) and the message. */
const errors = new Map<string, { line: number; message: string }[]>();

beforeAll(() => {
  fs.rmSync(scratch, { recursive: true, force: true });
  fs.mkdirSync(scratch, { recursive: true });
  // What a bundler's client types declare for a site: stylesheets are importable.
  fs.writeFileSync(path.join(scratch, "assets.d.ts"), 'declare module "*.css";\n');
  for (const b of programs) fs.writeFileSync(sampleFile(b), `${b.code}\nexport {};\n`);
  const config = ts.parseJsonConfigFileContent(
    {
      extends: path.join(root, "tsconfig.base.json"),
      compilerOptions: { noEmit: true, declaration: false, sourceMap: false, types: ["node"] },
      include: ["*.ts", "*.tsx"],
    },
    ts.sys,
    scratch,
  );
  const program = ts.createProgram({ rootNames: config.fileNames, options: config.options });
  for (const d of ts.getPreEmitDiagnostics(program)) {
    const where = d.file ? path.resolve(d.file.fileName) : "";
    const at = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line + 1 : 0;
    const message = ts.flattenDiagnosticMessageText(d.messageText, "\n");
    errors.set(where, [...(errors.get(where) ?? []), { line: at, message }]);
  }
}, 120_000);

describe("code samples in the docs", () => {
  it("are found: the README, docs/ and the package READMEs have TypeScript samples", () => {
    expect(programs.length).toBeGreaterThan(3);
    expect(new Set(programs.map((b) => b.file))).toContain("docs/kit.md");
  });

  it("compile on their own: no diagnostics outside the samples' files", () => {
    const samples = new Set(programs.map((b) => path.resolve(sampleFile(b))));
    const elsewhere = [...errors]
      .filter(([file]) => !samples.has(file))
      .map(([file, e]) => [file, e.map((x) => x.message)]);
    expect(elsewhere).toEqual([]);
  });

  for (const b of programs) {
    it(`${label(b)} type-checks`, () => {
      const found = errors.get(path.resolve(sampleFile(b))) ?? [];
      expect(found.map((e) => `${b.file}:${b.line + e.line}: ${e.message}`)).toEqual([]);
    });
  }

  for (const b of fragments) {
    const reason = fragmentReason(b);
    if (reason) it.skip(`${label(b)} — fragment: ${reason}`, () => {});
    else
      it(`${label(b)} is a fragment with a reason`, () => {
        expect.fail("write why after the mark: ```ts fragment: <why it is not a whole program>");
      });
  }
});
