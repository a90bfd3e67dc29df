#!/usr/bin/env node
// `npm start`: build what is missing or stale, then run the server on the embedded defaults
// (PGlite in ./data/db, media in ./data/media, in-process bus and transcoder).
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const bin = path.join(root, "packages/server/dist/bin.js");

function newestMtime(dir) {
  let newest = 0;
  if (!fs.existsSync(dir)) return newest;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === "node_modules" || entry.name === "dist") continue;
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
]
  .map((d) => newestMtime(path.join(root, d)))
  .reduce((a, b) => Math.max(a, b), 0);
const built = fs.existsSync(bin) ? fs.statSync(bin).mtimeMs : 0;

if (built < sources) {
  console.log("reelkit: building (first start, or sources changed)…");
  const result = spawnSync("npm", ["run", "build"], { cwd: root, stdio: "inherit" });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

const child = spawn(process.execPath, [bin], { cwd: root, stdio: "inherit" });
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
