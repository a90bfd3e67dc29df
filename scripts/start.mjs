#!/usr/bin/env node
// `npm start`: build what is missing or stale, then run the server on the embedded defaults
// (PostgreSQL in ./data/db, media in ./data/media, in-process bus and transcoder) with the demo
// site from apps/demo/dist at `/`.
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { serverNodeOptions } from "./server-node-options.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const bin = path.join(root, "packages/server/dist/bin.js");
const demoDist = path.join(root, "apps/demo/dist");

function mtime(file) {
  return fs.existsSync(file) ? fs.statSync(file).mtimeMs : 0;
}

function newestMtime(dir) {
  let newest = 0;
  if (!fs.existsSync(dir)) return newest;
  if (!fs.statSync(dir).isDirectory()) return mtime(dir);
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    // Tests are not part of any build output.
    if (entry.name === "node_modules" || entry.name === "dist" || /\.test\.[cm]?[jt]sx?$/.test(entry.name)) continue;
    const p = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : fs.statSync(p).mtimeMs);
  }
  return newest;
}

const sources = [
  "packages/core/src",
  "packages/server/src",
  "packages/transcoder/src",
  "packages/sdk/src",
  "packages/react/src",
  "apps/demo/src",
  "apps/demo/public",
  "apps/demo/index.html",
  "apps/demo/vite.config.ts",
  // A build setting (target, formats) changes the output as much as a source does.
  ...["core", "server", "transcoder", "sdk", "react"].map((p) => `packages/${p}/tsup.config.ts`),
]
  .map((d) => newestMtime(path.join(root, d)))
  .reduce((a, b) => Math.max(a, b), 0);
// The oldest of the outputs: the server entry and the demo's index.html (both written last).
const built = Math.min(mtime(bin), mtime(path.join(demoDist, "index.html")));

if (built < sources) {
  console.log("reelkit: building (first start, or sources changed)…");
  const result = spawnSync("npm", ["run", "build"], { cwd: root, stdio: "inherit" });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

// `--build-only`: just bring the build up to date (the test suites that need built packages).
if (process.argv.includes("--build-only")) process.exit(0);

// Serve the demo unless the caller chose a directory (an empty REELKIT_DEMO_DIR turns it off).
// V8 heap bounds (see server-node-options.mjs) unless NODE_OPTIONS sets its own.
const env = {
  ...process.env,
  REELKIT_DEMO_DIR: process.env.REELKIT_DEMO_DIR ?? demoDist,
  NODE_OPTIONS: serverNodeOptions(process.env.NODE_OPTIONS),
};
const child = spawn(process.execPath, [bin], { cwd: root, stdio: "inherit", env });
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
