// Rewrites the README's configuration table from the variable declarations
// (packages/core/src/config-variables.ts). `--check`: exit 1 when the README is out of date.
import fs from "node:fs";
import { fileURLToPath } from "node:url";
import { withConfigTable } from "../packages/core/src/config-table.js";

const readmePath = fileURLToPath(new URL("../README.md", import.meta.url));
const readme = fs.readFileSync(readmePath, "utf8");
const updated = withConfigTable(readme);

if (process.argv.includes("--check")) {
  if (updated !== readme) {
    console.error("README.md: the configuration table is out of date; run `npm run docs:config`");
    process.exit(1);
  }
} else if (updated !== readme) {
  fs.writeFileSync(readmePath, updated);
  console.log("README.md: configuration table updated");
}
