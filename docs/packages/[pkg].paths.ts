// The packages' own READMEs (what npm shows) as pages of the site: /packages/sdk, /packages/react.
import fs from "node:fs";
import { PACKAGE_PAGES } from "../.vitepress/sidebar.js";

export default {
  paths: () =>
    PACKAGE_PAGES.map((pkg) => ({
      params: { pkg },
      content: fs.readFileSync(new URL(`../../packages/${pkg}/README.md`, import.meta.url), "utf8"),
    })),
};
