import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, chromium } from "playwright-core";

/** Debian's Chromium; `CHROMIUM_PATH` points elsewhere. Playwright's own browsers cannot be downloaded here. */
export const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Null when Chromium can run, else why not — for `describeWith("browser", …)`. */
export const chromiumMissing: string | null = fs.existsSync(chromiumPath)
  ? null
  : `no Chromium at ${chromiumPath} (apt-get install chromium, or set CHROMIUM_PATH)`;

const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

/** `extraArgs`, e.g. `--host-resolver-rules=MAP site.test 127.0.0.1` to give a page its own origin. */
export function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath, args: [...ARGS, ...extraArgs] });
}

/** Screenshots and other evidence a run leaves behind (gitignored; CI keeps it as artifacts). */
export function artifactPath(...parts: string[]): string {
  const root = fileURLToPath(new URL("../../test-artifacts/", import.meta.url));
  const file = path.join(root, ...parts);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  return file;
}
