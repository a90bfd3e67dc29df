import { fileURLToPath } from "node:url";
import type { StorybookConfig } from "@storybook/react-vite";
import { mergeConfig } from "vite";

const src = (path: string) => fileURLToPath(new URL(path, import.meta.url));

const config: StorybookConfig = {
  framework: { name: "@storybook/react-vite", options: {} },
  stories: ["../packages/react/src/**/*.stories.@(ts|tsx)"],
  // public/sample/ holds the HLS sample made by scripts/storybook-sample.ts (not in git).
  staticDirs: ["./public"],
  // Works offline: no telemetry, no "what's new" fetches.
  core: { disableTelemetry: true, disableWhatsNewNotifications: true },
  async viteFinal(vite) {
    return mergeConfig(vite, {
      build: {
        // Storybook's own runtime and hls.js are large by nature; the warning says nothing here.
        chunkSizeWarningLimit: 1600,
        // Rolldown's "plugins took N% of the build" notice measures the machine's load, not a fault.
        rolldownOptions: { checks: { bundlerTimings: false } },
      },
      // Same resolution as the root vitest.config.ts: workspace packages from their sources,
      // so Storybook needs no `npm run build` first and edits show up at once.
      resolve: {
        alias: [
          { find: /^@reelkit\/sdk\/(.*)$/, replacement: src("../packages/sdk/src/$1.ts") },
          { find: /^@reelkit\/sdk$/, replacement: src("../packages/sdk/src/index.ts") },
          { find: /^@reelkit\/react$/, replacement: src("../packages/react/src/index.ts") },
          // What the sdk's "browser" export condition does for the built package: no Node built-ins.
          { find: /^\.\/upload-source\.js$/, replacement: src("../packages/sdk/src/upload-source.browser.ts") },
        ],
      },
    });
  },
};

export default config;
