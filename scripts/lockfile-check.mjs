#!/usr/bin/env node
// Fails when `npm install` changed package-lock.json in a way that matters on this machine.
//
// The registry reachable here serves other platforms' optional binaries on some days and not on
// others (npm then adds or drops their lockfile entries), so an entry that is optional and built
// for another OS or CPU is left out of the comparison; every other difference fails.
//
//   node scripts/lockfile-check.mjs            # the working copy against HEAD's lockfile
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

const committed = JSON.parse(execFileSync("git", ["show", "HEAD:package-lock.json"], { encoding: "utf8" }));
const installed = JSON.parse(readFileSync("package-lock.json", "utf8"));

const foreign = (entry) =>
  entry?.optional === true &&
  ((Array.isArray(entry.os) && !entry.os.includes(process.platform)) ||
    (Array.isArray(entry.cpu) && !entry.cpu.includes(process.arch)));

const strip = (lock) => {
  const { packages = {}, ...rest } = lock;
  const kept = Object.fromEntries(Object.entries(packages).filter(([, entry]) => !foreign(entry)));
  return { ...rest, packages: kept };
};

const a = strip(committed);
const b = strip(installed);
const differences = [];
for (const name of new Set([...Object.keys(a.packages), ...Object.keys(b.packages)])) {
  const before = JSON.stringify(a.packages[name] ?? null);
  const after = JSON.stringify(b.packages[name] ?? null);
  if (before !== after) differences.push(name || "(root)");
}
const { packages: _a, ...restA } = a;
const { packages: _b, ...restB } = b;
if (JSON.stringify(restA) !== JSON.stringify(restB)) differences.push("(lockfile header)");

const ignored = Object.keys(installed.packages ?? {}).filter(
  (name) => foreign(installed.packages[name]) && !(name in (committed.packages ?? {})),
);
if (ignored.length > 0) console.log(`lockfile: ignoring other platforms' optional entries: ${ignored.join(", ")}`);
if (differences.length > 0) {
  console.error(`package-lock.json changed on install (commit the lockfile npm wrote): ${differences.join(", ")}`);
  process.exit(1);
}
console.log("lockfile: unchanged by install");
