import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { buildSidebar, PACKAGE_PAGES, pageTitle } from "../docs/.vitepress/sidebar.js";

// The docs site's sidebar is made from the pages: every docs/*.md is in it, and a page added later
// appears without a config edit. (`npm run docs:build` builds the site; CI runs it.)

const docsDir = fileURLToPath(new URL("../docs/", import.meta.url));
const links = (dir: string) => buildSidebar(dir).flatMap((g) => g.items.map((i) => i.link));

let scratch = "";
afterEach(() => {
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
  scratch = "";
});

describe("the docs sidebar", () => {
  it("lists every page of docs/ and every package README page", () => {
    const pages = fs.readdirSync(docsDir).filter((f) => f.endsWith(".md") && f !== "index.md");
    expect(pages.length).toBeGreaterThan(5);
    const listed = links(docsDir);
    for (const page of pages) expect(listed, page).toContain(`/${page.slice(0, -3)}`);
    for (const pkg of PACKAGE_PAGES) {
      expect(listed).toContain(`/packages/${pkg}`);
      expect(fs.existsSync(path.join(docsDir, `../packages/${pkg}/README.md`))).toBe(true);
    }
    expect(listed).toContain("/");
    expect(new Set(listed).size).toBe(listed.length);
  });

  it("picks up a new page by itself, titled by its heading, known pages in their group", () => {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), "reelkit-docs-"));
    fs.writeFileSync(path.join(scratch, "index.md"), "# Home\n");
    fs.writeFileSync(path.join(scratch, "kit.md"), "# The kit\n");
    fs.writeFileSync(path.join(scratch, "webhooks.md"), "# Webhooks\n");
    fs.writeFileSync(path.join(scratch, "zz-new-topic.md"), "Intro.\n\n# A `new` topic\n");
    fs.writeFileSync(path.join(scratch, "testing.md"), "# Testing\n");
    const sidebar = buildSidebar(scratch);
    const guide = sidebar.find((g) => g.text === "Guide");
    expect(guide?.items).toEqual([
      { text: "The kit", link: "/kit" },
      { text: "Webhooks", link: "/webhooks" },
      { text: "A new topic", link: "/zz-new-topic" },
    ]);
    expect(sidebar.find((g) => g.text === "Working on Reelkit")?.items).toEqual([
      { text: "Testing", link: "/testing" },
    ]);
    expect(sidebar.flatMap((g) => g.items.map((i) => i.link))).not.toContain("/index");
  });

  it("titles a page by its first level-one heading, else its name", () => {
    expect(pageTitle("# The kit: `<Uploader>`\n\n## Not this", "kit")).toBe("The kit: <Uploader>");
    expect(pageTitle("No heading\n## Only a second level", "notes")).toBe("notes");
  });
});
