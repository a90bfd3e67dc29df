// Rewrites the configuration table of docs/configuration.md from the variable declarations
// (packages/core/src/config-variables.ts). `--check`: exit 1 when the page is out of date.
import fs from "node:fs";
import { fileURLToPath } from "node:url";
import { withConfigTable } from "../packages/core/src/config-table.js";

const pagePath = fileURLToPath(new URL("../docs/configuration.md", import.meta.url));
const page = fs.readFileSync(pagePath, "utf8");
const updated = withConfigTable(page);

if (process.argv.includes("--check")) {
  if (updated !== page) {
    console.error("docs/configuration.md: the configuration table is out of date; run `npm run docs:config`");
    process.exit(1);
  }
} else if (updated !== page) {
  fs.writeFileSync(pagePath, updated);
  console.log("docs/configuration.md: configuration table updated");
}
