import fs from "node:fs";
import path from "node:path";

/**
 * The Markdown files whose TypeScript samples are compiled by test/docs-samples.test.ts and whose
 * relative links test/docs-links.test.ts follows: the README, every page of docs/ and each
 * package's README.
 */
export function docFiles(root: string): string[] {
  const inDir = (dir: string, pick: (name: string) => boolean) =>
    fs.existsSync(path.join(root, dir))
      ? fs
          .readdirSync(path.join(root, dir))
          .filter(pick)
          .sort()
          .map((name) => path.posix.join(dir, name))
      : [];
  const packages = inDir("packages", () => true)
    .map((dir) => path.posix.join(dir, "README.md"))
    .filter((file) => fs.existsSync(path.join(root, file)));
  return ["README.md", ...inDir("docs", (name) => name.endsWith(".md")), ...packages];
}

export interface CodeBlock {
  /** The file, relative to the repository. */
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** `ts`, `tsx`, `sh`, … (the fence's first word). */
  lang: string;
  /** What follows the language on the fence line (e.g. `fragment: why`). */
  meta: string;
  code: string;
}

/** Fenced code blocks (``` or ~~~), also those indented inside list items; the indent is removed. */
export function codeBlocks(file: string, markdown: string): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  const lines = markdown.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const open = /^( *)(`{3,}|~{3,})\s*([\w-]*)\s*(.*)$/.exec(lines[i] ?? "");
    if (!open) continue;
    const [, indent = "", fence = "", lang = "", meta = ""] = open;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const text = lines[j] ?? "";
      if (text.trim().startsWith(fence) && text.trim().replaceAll(fence[0] ?? "`", "") === "") break;
      body.push(text.startsWith(indent) ? text.slice(indent.length) : text.trimStart());
    }
    blocks.push({ file, line: i + 1, lang, meta: meta.trim(), code: body.join("\n") });
    i = j;
  }
  return blocks;
}

/**
 * A sample marked ```ts fragment: <reason> (or ```tsx) is not compiled: it shows part of a program
 * (a function body, a component's inside). Returns the reason, "" when the mark has none, or null
 * when the block is a whole program.
 */
export function fragmentReason(block: CodeBlock): string | null {
  const mark = /^fragment\b:?\s*(.*)$/.exec(block.meta);
  return mark ? (mark[1] ?? "").trim() : null;
}
