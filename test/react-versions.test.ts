/**
 * @reelkit/react declares React `^18.3 || ^19` as its peer range; the workspace develops on 19.
 * This runs the package's dom tests (components and hooks) once more against React 18.3: react
 * and react-dom 18 are installed from the registry into a cache directory (reused while present)
 * and the dom project resolves them through REELKIT_REACT_MODULES (vitest.config.ts).
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify, stripVTControlCharacters } from "node:util";
import { expect, it } from "vitest";

const run = promisify(execFile);
const root = fileURLToPath(new URL("..", import.meta.url));
const cache = path.join(root, "node_modules/.cache/reelkit-react18");
const modules = path.join(cache, "node_modules");

async function installReact18(): Promise<string> {
  const manifest = path.join(modules, "react-dom/package.json");
  if (!fs.existsSync(manifest)) {
    fs.mkdirSync(cache, { recursive: true });
    fs.writeFileSync(path.join(cache, "package.json"), '{ "private": true }\n');
    await run(
      "npm",
      [
        "install",
        "--no-audit",
        "--no-fund",
        "--no-package-lock",
        "--prefer-offline",
        "react@~18.3.1",
        "react-dom@~18.3.1",
      ],
      { cwd: cache },
    );
  }
  return (JSON.parse(fs.readFileSync(manifest, "utf8")) as { version: string }).version;
}

it("the react package's dom tests pass on React 18.3", async () => {
  const version = await installReact18();
  expect(version).toMatch(/^18\.3\./);
  const { stdout: raw } = await run(
    process.execPath,
    [path.join(root, "node_modules/vitest/vitest.mjs"), "run", "--project", "dom", "packages/react"],
    {
      cwd: root,
      env: { ...process.env, REELKIT_REACT_MODULES: modules, FORCE_COLOR: "0" },
      maxBuffer: 64 * 1024 * 1024,
    },
  ).catch((error: { stdout?: string; stderr?: string }) => {
    throw new Error(`dom tests failed on React ${version}:\n${error.stdout ?? ""}\n${error.stderr ?? ""}`);
  });
  const stdout = stripVTControlCharacters(raw);
  // The run really used React 18, and every test passed (a failure reads "Tests  1 failed | …").
  expect(stdout).toContain(`dom tests on React ${version}`);
  expect(stdout).not.toMatch(/dom tests on React (?!18\.)/);
  expect(stdout).toMatch(/Tests\s+\d+ passed \(\d+\)/);
}, 600_000);
