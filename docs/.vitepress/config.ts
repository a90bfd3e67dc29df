import path from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitepress";
import { buildSidebar, PACKAGE_PAGES } from "./sidebar.js";

const docsDir = fileURLToPath(new URL("..", import.meta.url));
const repoDir = path.dirname(docsDir);

/**
 * The pages are written for GitHub as much as for the site: links are relative paths between the
 * files in the repository. On the site, a link to another `docs/*.md` or to a package README (a
 * page of its own, see packages/[pkg].paths.ts) is turned into that page's route.
 */
function siteLink(href: string, relativePath: string): string | null {
  if (/^([a-z][a-z0-9+.-]*:|\/|#)/i.test(href)) return null;
  const [target = "", hash] = href.split("#", 2);
  const dynamic = /^packages\/([^/]+)\.md$/.exec(relativePath);
  const sourceDir = dynamic
    ? path.join(repoDir, "packages", dynamic[1] ?? "")
    : path.dirname(path.join(docsDir, relativePath));
  const file = path.relative(repoDir, path.resolve(sourceDir, target)).split(path.sep).join("/");
  const anchor = hash ? `#${hash}` : "";
  const page = /^docs\/([^/]+\.md)$/.exec(file)?.[1];
  if (page) return `/${page}${anchor}`;
  const pkg = /^packages\/([^/]+)\/README\.md$/.exec(file)?.[1];
  if (pkg && PACKAGE_PAGES.includes(pkg)) return `/packages/${pkg}.md${anchor}`;
  return null;
}

export default defineConfig({
  title: "Reelkit",
  description: "Self-hosted video: resumable uploads, an HLS ladder made by FFmpeg, a searchable catalog, a player.",
  cleanUrls: true,
  ignoreDeadLinks: [
    // Example URLs of a local server are not pages of the site.
    /^https?:\/\/(localhost|127\.0\.0\.1)\b/,
    // Other files of the repository (a source file, LICENSE) are links on GitHub, not pages here;
    // test/docs-links.test.ts checks that they exist.
    (url: string) => url.startsWith("./../"),
  ],
  markdown: {
    config(md) {
      md.core.ruler.after("inline", "reelkit-repo-links", (state) => {
        const relativePath = String((state.env as { relativePath?: string }).relativePath ?? "");
        for (const block of state.tokens) {
          for (const token of block.children ?? []) {
            const href = token.type === "link_open" ? token.attrGet("href") : null;
            const link = href ? siteLink(href, relativePath) : null;
            if (link) token.attrSet("href", link);
          }
        }
      });
    },
  },
  themeConfig: {
    sidebar: buildSidebar(docsDir),
    outline: [2, 3],
    search: { provider: "local" },
  },
});
