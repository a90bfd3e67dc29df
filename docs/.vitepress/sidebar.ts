/**
 * The docs site's sidebar, made from the pages themselves: every `docs/*.md` is listed under the
 * title of its first `# ` heading, so a new page needs no config edit. Known pages go to their
 * group in the order below; any other page joins the guide, in name order.
 */
import fs from "node:fs";
import path from "node:path";

export interface SidebarItem {
  text: string;
  link: string;
}
export interface SidebarGroup {
  text: string;
  items: SidebarItem[];
}

const GROUPS: { text: string; pages: string[] }[] = [
  {
    text: "Guide",
    pages: [
      "getting-started",
      "kit",
      "uploads",
      "playback",
      "media-features",
      "accounts-and-channels",
      "webhooks",
      "scheduling",
    ],
  },
  { text: "Reference", pages: ["configuration", "http-api", "security"] },
  { text: "Running it", pages: ["operations", "architecture", "benchmarks"] },
  { text: "Working on Reelkit", pages: ["testing", "dependencies", "writing-docs"] },
];

/** The packages whose README is a page of the site too (`/packages/<name>`, see packages/[pkg].paths.ts). */
export const PACKAGE_PAGES = ["sdk", "react"];

/** A page's title: its first level-one heading, without Markdown code marks; else its file name. */
export function pageTitle(markdown: string, fallback: string): string {
  const heading = /^# (.+)$/m.exec(markdown)?.[1];
  return heading ? heading.replaceAll("`", "").trim() : fallback;
}

export function buildSidebar(docsDir: string): SidebarGroup[] {
  const names = fs
    .readdirSync(docsDir)
    .filter((f) => f.endsWith(".md") && f !== "index.md")
    .map((f) => f.slice(0, -3))
    .sort();
  const item = (name: string): SidebarItem => ({
    text: pageTitle(fs.readFileSync(path.join(docsDir, `${name}.md`), "utf8"), name),
    link: `/${name}`,
  });
  const known = new Set(GROUPS.flatMap((g) => g.pages));
  const groups = GROUPS.map((g) => ({ text: g.text, items: g.pages.filter((p) => names.includes(p)).map(item) }));
  const guide = groups[0];
  if (guide) guide.items.push(...names.filter((n) => !known.has(n)).map(item));
  const reference = groups[1];
  if (reference) reference.items.push(...PACKAGE_PAGES.map((p) => ({ text: `@reelkit/${p}`, link: `/packages/${p}` })));
  return [{ text: "Overview", items: [{ text: "Documentation", link: "/" }] }, ...groups].filter(
    (g) => g.items.length > 0,
  );
}
