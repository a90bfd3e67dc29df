import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { codeBlocks, docFiles } from "./doc-samples.js";

/**
 * Every relative link of the README, docs/ and the package READMEs leads somewhere: the file
 * exists, and an anchor names a heading of the page, spelled the same by GitHub and by the docs
 * site (VitePress), so the link works in both.
 */

const root = fileURLToPath(new URL("..", import.meta.url));

/** GitHub's heading ids: lower case, punctuation dropped, spaces to hyphens. */
function githubSlug(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\p{M} _-]/gu, "")
    .replace(/ /g, "-");
}

/** VitePress's heading ids (its slugify). */
function vitepressSlug(heading: string): string {
  return heading
    .normalize("NFKD")
    .replace(/[\u0300-\u036F]/g, "")
    .replace(/\p{Cc}/gu, "")
    .replace(/[\s~`!@#$%^&*()\-_+=[\]{}|\\;:"'“”‘’<>,.?/]+/g, "-")
    .replace(/-{2,}/g, "-")
    .replace(/^-+|-+$/g, "")
    .replace(/^(\d)/, "_$1")
    .toLowerCase();
}

/** The page's Markdown without its fenced blocks. */
function withoutBlocks(markdown: string): string {
  const lines = markdown.split("\n");
  for (const block of codeBlocks("", markdown)) {
    const end = block.line + block.code.split("\n").length;
    for (let i = block.line - 1; i <= end && i < lines.length; i++) lines[i] = "";
  }
  return lines.join("\n");
}

/** The page's Markdown without code, where a link is only text. */
const prose = (markdown: string) => withoutBlocks(markdown).replace(/`[^`\n]*`/g, "");

/** Heading texts (Markdown marks removed), as the anchors of the page are made from. */
function headings(markdown: string): string[] {
  return [...withoutBlocks(markdown).matchAll(/^#{1,6} +(.+?) *#*$/gm)].map((m) =>
    (m[1] ?? "").replace(/`/g, "").replace(/\[([^\]]*)\]\([^)]*\)/g, "$1"),
  );
}

/** Markdown links `[text](target)`, with the line they are on. */
function links(markdown: string): { target: string; line: number }[] {
  const text = prose(markdown);
  const found: { target: string; line: number }[] = [];
  for (const m of text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
    found.push({ target: m[1] ?? "", line: text.slice(0, m.index).split("\n").length });
  }
  return found;
}

const read = (file: string) => fs.readFileSync(path.join(root, file), "utf8");

describe("links in the docs", () => {
  it("slugs headings as GitHub and VitePress do", () => {
    const heading = "On any site: iframe, <reelkit-player>, oEmbed";
    expect(githubSlug(heading)).toBe("on-any-site-iframe-reelkit-player-oembed");
    expect(vitepressSlug(heading)).toBe("on-any-site-iframe-reelkit-player-oembed");
    expect(githubSlug("Engines: skipped or required")).toBe("engines-skipped-or-required");
    expect(links("see [a](b.md#c) and `[not](x.md)`\n```md\n[nor](y.md)\n```\n")).toEqual([
      { target: "b.md#c", line: 1 },
    ]);
  });

  for (const file of docFiles(root)) {
    it(`${file}: every relative link resolves`, () => {
      const broken: string[] = [];
      for (const { target, line } of links(read(file))) {
        if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith("//")) continue;
        const [pathPart = "", anchor] = target.split("#", 2);
        if (pathPart.startsWith("/")) {
          broken.push(`${file}:${line}: ${target} (write a relative path, so that it works on GitHub too)`);
          continue;
        }
        const resolved = pathPart ? path.posix.join(path.posix.dirname(file), decodeURI(pathPart)) : file;
        if (resolved.startsWith("..") || !fs.existsSync(path.join(root, resolved))) {
          broken.push(`${file}:${line}: ${target} (no such file: ${resolved})`);
          continue;
        }
        if (anchor === undefined) continue;
        if (!resolved.endsWith(".md")) {
          broken.push(`${file}:${line}: ${target} (an anchor into a file that is not Markdown)`);
          continue;
        }
        const titles = headings(read(resolved));
        const onGithub = titles.some((t) => githubSlug(t) === anchor);
        const onSite = titles.some((t) => vitepressSlug(t) === anchor);
        if (!onGithub || !onSite) {
          broken.push(
            `${file}:${line}: ${target} (no heading of ${resolved} has that id${onGithub || onSite ? ` on ${onGithub ? "the site" : "GitHub"}` : ""})`,
          );
        }
      }
      expect(broken).toEqual([]);
    });
  }
});
