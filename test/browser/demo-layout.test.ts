import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser, BrowserContext, FileChooser, Locator, Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type DemoServer, startDemoServer } from "../../apps/demo/test/real-server.js";
import { readyEvent } from "../../packages/server/test/factories.js";
import { describeWith } from "../engines.js";
import { type AxeViolation, axeAudit, blocking } from "./axe.js";
import { artifactPath, chromiumMissing, launchChromium } from "./chromium.js";

// The demo's pages in Chromium at phone, tablet and desktop sizes: nothing wider than the viewport, a
// one-row header on phones with a keyboard-usable menu, no serious or critical axe-core
// violation, and a screenshot of each page (test-artifacts/demo-layout/, kept by CI).

const demoDir = fileURLToPath(new URL("../../apps/demo/dist/", import.meta.url));

const PHONE = { width: 390, height: 844 };
const TABLET = { width: 768, height: 1024 };
const DESKTOP = { width: 1280, height: 800 };
/** The narrowest phone still in use. */
const NARROW = { width: 320, height: 640 };

interface PageCase {
  name: string;
  /** A path, or one that depends on what the suite made (a video's id). */
  url: string | (() => string);
  /** The page's h1 once it has loaded. */
  heading: string | RegExp;
  /** Something that appears once the page's data is in. */
  ready?: (page: Page) => Promise<unknown>;
  /** The sizes to lay it out at; all four when absent. */
  sizes?: { width: number; height: number }[];
}

const SIGNED_OUT: PageCase[] = [
  {
    name: "home-signed-out",
    url: "/",
    heading: "Latest videos",
    ready: (page) =>
      page
        .getByRole("link", { name: /harbour/ })
        .first()
        .waitFor(),
  },
  {
    name: "search-signed-out",
    url: "/search?q=harbour",
    heading: "Results for “harbour”",
    ready: (page) =>
      page
        .getByRole("link", { name: /harbour/ })
        .first()
        .waitFor(),
  },
  // /upload sends a signed-out visitor to sign in, and says why.
  {
    name: "upload-signed-out",
    url: "/upload",
    heading: "Sign in",
    ready: (page) => page.getByText("Sign in to upload").waitFor(),
  },
  { name: "sign-up", url: "/sign-up", heading: "Create an account" },
  { name: "forgot-password", url: "/forgot-password", heading: "Reset your password" },
  { name: "reset-password", url: "/reset-password?token=from-the-mail", heading: "Choose a new password" },
  {
    name: "reset-password-refused",
    url: "/reset-password?error=INVALID_TOKEN",
    heading: "Choose a new password",
    ready: (page) => page.getByRole("link", { name: "Ask for a new link" }).waitFor(),
  },
  { name: "verified", url: "/verified", heading: "Your address is verified" },
];

const SIGNED_IN: PageCase[] = [
  {
    name: "home",
    url: "/",
    heading: "Latest videos",
    ready: (page) =>
      page
        .getByRole("link", { name: /harbour/ })
        .first()
        .waitFor(),
  },
  {
    name: "search-filtered",
    url: "/search?q=harbour&quality=2160",
    heading: "Results for “harbour”",
    ready: (page) => page.getByText(/The filters hide every video/).waitFor(),
  },
  { name: "upload", url: "/upload", heading: "Upload a video" },
  {
    name: "my-videos",
    url: "/mine",
    heading: "My videos",
    ready: (page) =>
      page
        .getByRole("listitem", { name: /harbour/ })
        .first()
        .waitFor(),
  },
  // The signed-in user is the server's first, so its admin; its sign-up mailed a verification link.
  {
    name: "outbox",
    url: "/admin/outbox",
    heading: "Mail outbox",
    ready: (page) =>
      page
        .getByRole("heading", { level: 2, name: /Verify your e-mail address/ })
        .first()
        .waitFor(),
  },
];

let server: DemoServer | null = null;
let browser: Browser | null = null;
/** The watch page's video: the signed-in user's, tagged, with a link in its description. */
let watchedId = "";
/** The signed-in user's channel (derived from the name "Demo Tester"). */
const CHANNEL = "/c/demo-tester";

const WATCH: PageCase = {
  name: "watch",
  url: () => `/watch/${watchedId}`,
  heading: "Sunset over the harbour",
  // Its tags, and the side list that loads after the video.
  ready: async (page) => {
    await page.getByRole("link", { name: "#boats" }).waitFor();
    await page.getByRole("heading", { name: "More from Demo Tester" }).waitFor();
  },
};
const CHANNEL_PAGE: PageCase = {
  name: "channel",
  url: CHANNEL,
  heading: "Demo Tester",
  ready: (page) =>
    page
      .getByRole("link", { name: /harbour/ })
      .first()
      .waitFor(),
};
SIGNED_OUT.push({ ...WATCH, name: "watch-signed-out" }, { ...CHANNEL_PAGE, name: "channel-signed-out" });
SIGNED_OUT.push({ name: "sign-in", url: "/sign-in", heading: "Sign in" });
SIGNED_IN.push(
  {
    ...WATCH,
    ready: async (page) => {
      await WATCH.ready?.(page);
      await page.getByRole("button", { name: "Edit" }).waitFor();
    },
  },
  { ...CHANNEL_PAGE, ready: (page) => page.getByRole("button", { name: "Edit channel" }).waitFor() },
);

/** Elements that stick out of the viewport sideways, and the document's own width. */
function measureOverflow(page: Page) {
  return page.evaluate(() => {
    const width = window.innerWidth;
    const wide: string[] = [];
    for (const el of Array.from(document.body.querySelectorAll("*"))) {
      const box = el.getBoundingClientRect();
      if (box.width === 0 && box.height === 0) continue;
      if (box.right > width + 0.5 || box.left < -0.5) {
        const name = `${el.tagName.toLowerCase()}${el.className ? `.${String(el.className).split(" ").join(".")}` : ""}`;
        wide.push(`${name} [${Math.round(box.left)}, ${Math.round(box.right)}]`);
      }
    }
    return { scrollWidth: document.documentElement.scrollWidth, innerWidth: width, wide };
  });
}

async function open(context: BrowserContext, test: PageCase): Promise<Page> {
  const page = await context.newPage();
  page.on("pageerror", (err) => console.error("page error:", err));
  await page.goto(`${server?.baseUrl}${typeof test.url === "string" ? test.url : test.url()}`);
  await page.getByRole("heading", { level: 1, name: test.heading }).waitFor({ timeout: 30_000 });
  await test.ready?.(page);
  // The user menu appears once the session is known (in the folded menu on phones, so hidden).
  await page.locator('nav a[href="/upload"]').waitFor({ state: "attached" });
  return page;
}

/** Lays each page out at each size: no overflow, header height, axe, a screenshot. */
async function checkPages(context: BrowserContext, cases: PageCase[]) {
  const violations: Record<string, AxeViolation[]> = {};
  for (const test of cases) {
    const page = await open(context, test);
    for (const size of test.sizes ?? [PHONE, TABLET, DESKTOP, NARROW]) {
      await page.setViewportSize(size);
      const label = `${test.name} at ${size.width}×${size.height}`;
      const overflow = await measureOverflow(page);
      expect(overflow.wide, label).toEqual([]);
      expect(overflow.scrollWidth, label).toBeLessThanOrEqual(overflow.innerWidth);
      const header = await page.locator("header.demo-header").boundingBox();
      if (size.width < 600) expect(header?.height, label).toBeLessThanOrEqual(80);
      await page.screenshot({
        path: artifactPath("demo-layout", `${test.name}-${size.width}x${size.height}.png`),
        fullPage: true,
      });
    }
    await page.setViewportSize(PHONE);
    violations[`${test.name} phone`] = await axeAudit(page);
    await page.setViewportSize(DESKTOP);
    violations[`${test.name} desktop`] = await axeAudit(page);
    await page.close();
  }
  fs.writeFileSync(artifactPath("demo-layout", `axe-${cases[0]?.name}.json`), JSON.stringify(violations, null, 2));
  for (const [where, found] of Object.entries(violations)) {
    expect(blocking(found), where).toEqual([]);
  }
}

/** WCAG contrast ratio of two computed CSS colours (`rgb(…)` or `color(srgb …)`). */
function contrast(a: string, b: string): number {
  const luminance = (css: string) => {
    const scale = css.startsWith("color(") ? 1 : 255;
    const [r, g, bl] = (css.match(/[\d.]+/g) ?? []).map((n) => Number(n) / scale);
    const lin = (c = 0) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
    return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(bl);
  };
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return ((hi ?? 0) + 0.05) / ((lo ?? 0) + 0.05);
}

describeWith("browser", chromiumMissing, "demo layout in Chromium", () => {
  beforeAll(async () => {
    server = await startDemoServer({ env: { REELKIT_DEMO_DIR: demoDir } });
    watchedId = await server.makeReadyVideo({
      title: "Sunset over the harbour",
      description: "Boats at dusk. More at https://example.com/a-rather-long-address/that/must/wrap?on=phones",
    });
    await server.catalog.edits.update(watchedId, { tags: ["boats", "harbour", "sunset"] });
    await server.makeReadyVideo({
      title: "A rather long title about the harbour lighthouse that has to wrap on a phone screen",
    });
    await server.makeReadyVideo({ title: "Mountain trail run" });
    browser = await launchChromium();
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  // axe-core is injected as a script: the pages' Content-Security-Policy (checked by
  // demo.test.ts) is bypassed here.
  const newContext = () => (browser as Browser).newContext({ viewport: PHONE, bypassCSP: true });

  it("lays out the signed-out pages at phone and desktop sizes", async () => {
    const context = await newContext();
    try {
      await checkPages(context, SIGNED_OUT);
    } finally {
      await context.close();
    }
  });

  it("lays out the signed-in pages at phone and desktop sizes", async () => {
    const context = await newContext();
    try {
      const page = await context.newPage();
      await page.goto(`${server?.baseUrl}/sign-in`);
      await page.getByLabel("Email").fill(server?.user.email ?? "");
      await page.getByLabel("Password").fill(server?.user.password ?? "");
      await page.getByRole("button", { name: "Sign in", exact: true }).click();
      await page.getByRole("heading", { level: 1, name: "My videos" }).waitFor({ timeout: 30_000 });
      await page.close();
      await checkPages(context, SIGNED_IN);
    } finally {
      await context.close();
    }
  });

  it("folds the navigation behind a menu button on phones that works from the keyboard", async () => {
    const context = await newContext();
    try {
      const page = await open(context, SIGNED_OUT[0] as PageCase);
      const menu = page.getByRole("button", { name: "Menu" });
      const nav = page.getByRole("navigation", { name: "Main" });
      await expect(menu.getAttribute("aria-expanded")).resolves.toBe("false");
      await expect(nav.isVisible()).resolves.toBe(false);

      // Tab from the search box's button to the menu button, then Enter opens the menu.
      await page.getByRole("button", { name: "Search", exact: true }).focus();
      await page.keyboard.press("Tab");
      await expect(menu.evaluate((el) => el === document.activeElement)).resolves.toBe(true);
      await page.keyboard.press("Enter");
      await expect(menu.getAttribute("aria-expanded")).resolves.toBe("true");
      await nav.waitFor({ state: "visible" });
      const overflow = await measureOverflow(page);
      expect(overflow.wide).toEqual([]);
      await page.screenshot({ path: artifactPath("demo-layout", "menu-open-390x844.png") });

      // Its links come next in the tab order; Escape closes it and returns focus to the button.
      await page.keyboard.press("Tab");
      await expect(page.evaluate(() => document.activeElement?.textContent)).resolves.toBe("Home");
      await page.keyboard.press("Escape");
      await expect(menu.getAttribute("aria-expanded")).resolves.toBe("false");
      await expect(menu.evaluate((el) => el === document.activeElement)).resolves.toBe(true);
      await expect(nav.isVisible()).resolves.toBe(false);

      // Space opens it too; following a link closes it.
      await page.keyboard.press("Space");
      await nav.waitFor({ state: "visible" });
      await nav.getByRole("link", { name: "Sign in" }).focus();
      await page.keyboard.press("Enter");
      await page.getByRole("heading", { level: 1, name: "Sign in" }).waitFor();
      await expect(menu.getAttribute("aria-expanded")).resolves.toBe("false");

      // On a desktop there is no menu button: the navigation sits in the header.
      await page.setViewportSize(DESKTOP);
      await expect(menu.isVisible()).resolves.toBe(false);
      await expect(nav.isVisible()).resolves.toBe(true);

      // "Create account" stays readable under the pointer.
      const cta = nav.getByRole("link", { name: "Create account" });
      await cta.hover();
      const colours = await cta.evaluate((el) => {
        const style = getComputedStyle(el);
        return { fg: style.color, bg: style.backgroundColor };
      });
      expect(contrast(colours.fg, colours.bg), JSON.stringify(colours)).toBeGreaterThanOrEqual(4.5);
    } finally {
      await context.close();
    }
  });
});

/**
 * Presses Tab (Shift+Tab with `back`) until `target` has the focus; fails after `max` presses.
 * What the keyboard-only run uses instead of a click.
 */
async function tabTo(page: Page, target: Locator, { max = 60, back = false } = {}): Promise<void> {
  const element = await target.elementHandle({ timeout: 30_000 });
  if (!element) throw new Error("tabTo: no such element");
  for (let i = 0; i < max; i++) {
    if (await element.evaluate((el) => el === document.activeElement)) return;
    await page.keyboard.press(back ? "Shift+Tab" : "Tab");
  }
  const focused = await page.evaluate(() => document.activeElement?.outerHTML.slice(0, 120));
  throw new Error(`${max} presses of Tab did not reach the element (focus is on ${focused})`);
}

/**
 * Presses Space on the focused file input until the file chooser opens (at most three presses,
 * each given 10 s). Playwright intercepts file choosers only once a listener exists, and turns
 * that on asynchronously: a press right after the first listener can reach Chromium first and
 * open a native chooser nobody sees (one CI run; one run in three alone needed a second press).
 * The caller registers a listener when it opens the page, and a press that still goes unseen is
 * made again while the input keeps the focus.
 */
async function spaceOpensFileChooser(page: Page): Promise<FileChooser> {
  for (let attempt = 1; ; attempt++) {
    const chooser = page.waitForEvent("filechooser", { timeout: 10_000 });
    await page.keyboard.press("Space");
    try {
      return await chooser;
    } catch (err) {
      if (attempt === 3) throw err;
      const focused = await page.evaluate(() => (document.activeElement as HTMLInputElement | null)?.type);
      expect(focused).toBe("file");
    }
  }
}

describeWith("browser", chromiumMissing, "the demo from the keyboard alone", () => {
  let keyboardServer: DemoServer | null = null;
  let keyboardBrowser: Browser | null = null;
  let clip = "";

  beforeAll(async () => {
    keyboardServer = await startDemoServer({ env: { REELKIT_DEMO_DIR: demoDir } });
    keyboardBrowser = await launchChromium();
    clip = path.join(os.tmpdir(), `keyboard-clip-${process.pid}.mp4`);
    fs.writeFileSync(clip, Buffer.alloc(64 * 1024, 1));
  }, 300_000);

  afterAll(async () => {
    await keyboardBrowser?.close();
    await keyboardServer?.close();
    fs.rmSync(clip, { force: true });
  });

  it("signs in, uploads and watches with Tab, Enter and Space only", async () => {
    const srv = keyboardServer as DemoServer;
    const context = await (keyboardBrowser as Browser).newContext({ viewport: DESKTOP });
    const page = await context.newPage();
    page.on("pageerror", (err) => console.error("page error:", err));
    // File choosers are intercepted from now on (see spaceOpensFileChooser).
    page.on("filechooser", () => {});
    try {
      // Sign in: Tab to each field, type, Enter submits the form.
      await page.goto(`${srv.baseUrl}/sign-in`);
      await page.getByRole("heading", { level: 1, name: "Sign in" }).waitFor();
      await tabTo(page, page.getByLabel("Email"));
      await page.keyboard.type(srv.user.email);
      await page.keyboard.press("Tab");
      await expect(page.getByLabel("Password").evaluate((el) => el === document.activeElement)).resolves.toBe(true);
      await page.keyboard.type(srv.user.password);
      await page.keyboard.press("Enter");
      await page.getByRole("heading", { level: 1, name: "My videos" }).waitFor({ timeout: 30_000 });

      // To the upload page through the header's link.
      await tabTo(page, page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Upload" }), {
        back: true,
      });
      await page.keyboard.press("Enter");
      await page.getByRole("heading", { level: 1, name: "Upload a video" }).waitFor();

      // Visibility and tags, then the file: Space on the file input opens the file chooser.
      const visibility = page.getByLabel("Visibility");
      await tabTo(page, visibility);
      for (let i = 0; i < 3 && (await visibility.inputValue()) !== "UNLISTED"; i++) {
        await page.keyboard.press("ArrowDown");
      }
      await expect(visibility.inputValue()).resolves.toBe("UNLISTED");
      await tabTo(page, page.getByLabel("Tags"));
      await page.keyboard.type("keyboard, harbour");
      await tabTo(page, page.getByLabel("Choose a video file"));
      await (await spaceOpensFileChooser(page)).setFiles(clip);
      await tabTo(page, page.getByLabel("Title"));
      await page.keyboard.type("Typed without a mouse");
      await tabTo(page, page.getByRole("button", { name: "Upload", exact: true }));
      await page.keyboard.press("Enter");

      // The Watch link appears once the upload exists; Enter follows it.
      const watch = page.getByRole("link", { name: "Watch", exact: true });
      await watch.waitFor({ timeout: 60_000 });
      await page.getByText("It plays as soon as processing is done.").waitFor({ timeout: 60_000 });
      await tabTo(page, watch);
      await page.keyboard.press("Enter");
      await page.getByRole("heading", { level: 1, name: "Typed without a mouse" }).waitFor({ timeout: 30_000 });
      const videoId = new URL(page.url()).pathname.split("/").pop() ?? "";
      const video = await srv.catalog.queries.get(videoId);
      expect(video?.visibility).toBe("UNLISTED");
      expect(video?.tags).toEqual(["keyboard", "harbour"]);

      // Processing done: the page shows the player, whose controls the keyboard reaches.
      await srv.catalog.transcodes.applyReady(readyEvent(videoId, 1));
      const play = page.getByRole("button", { name: "Play", exact: true });
      await play.waitFor({ timeout: 60_000 });
      await tabTo(page, play);
      await tabTo(page, page.getByRole("button", { name: "Full screen" }));
      await page.screenshot({ path: artifactPath("demo-layout", "keyboard-watch-1280x800.png") });
    } finally {
      await context.close();
    }
  });
});
