import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const src = (path: string) => fileURLToPath(new URL(path, import.meta.url));

// Workspace packages resolve to their TypeScript sources, so tests never need a build first.
export const alias = [
  { find: /^@reelkit\/sdk\/(.*)$/, replacement: src("./packages/sdk/src/$1.ts") },
  { find: /^@reelkit\/core\/(kafka|s3)$/, replacement: src("./packages/core/src/$1.ts") },
  { find: /^@reelkit\/core$/, replacement: src("./packages/core/src/index.ts") },
  { find: /^@reelkit\/sdk$/, replacement: src("./packages/sdk/src/index.ts") },
  { find: /^@reelkit\/react$/, replacement: src("./packages/react/src/index.ts") },
  { find: /^@reelkit\/transcoder$/, replacement: src("./packages/transcoder/src/index.ts") },
  { find: /^@reelkit\/server$/, replacement: src("./packages/server/src/index.ts") },
];

/**
 * REELKIT_REACT_MODULES=<dir>/node_modules runs the dom project against another React (e.g.
 * 18.3, installed there by test/react-versions.test.ts): react, react-dom and their JSX runtimes
 * resolve from that directory, and Testing Library is bundled through the same aliases.
 */
const otherReact = process.env.REELKIT_REACT_MODULES;
const reactAlias = otherReact
  ? [
      { find: /^react$/, replacement: `${otherReact}/react/index.js` },
      { find: /^react\/(jsx-runtime|jsx-dev-runtime)$/, replacement: `${otherReact}/react/$1.js` },
      { find: /^react-dom$/, replacement: `${otherReact}/react-dom/index.js` },
      { find: /^react-dom\/(client|server|test-utils)$/, replacement: `${otherReact}/react-dom/$1.js` },
      // Its ESM build, so that its own React imports go through the aliases above.
      {
        find: /^@testing-library\/react$/,
        replacement: src("./node_modules/@testing-library/react/dist/@testing-library/react.esm.js"),
      },
    ]
  : [];

export default defineConfig({
  resolve: { alias },
  test: {
    // Most suites wait on engines, processes and FFmpeg rather than compute: on a 2-core machine
    // vitest's default (cores - 1) would run them one file at a time.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    reporters: ["default", "./test/summary-reporter.ts"],
    projects: [
      {
        resolve: { alias },
        test: {
          name: "node",
          environment: "node",
          include: ["packages/{core,server,transcoder,sdk}/**/*.test.ts", "test/**/*.test.ts"],
          exclude: [
            "**/node_modules/**",
            "**/dist/**",
            "test/browser/**",
            "test/packaging.test.ts",
            "test/react-versions.test.ts",
          ],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        resolve: { alias: [...reactAlias, ...alias] },
        test: {
          name: "dom",
          server: otherReact ? { deps: { inline: [/@testing-library[\\/]react/] } } : undefined,
          environment: "jsdom",
          include: ["packages/react/**/*.test.{ts,tsx}", "apps/demo/**/*.test.{ts,tsx}"],
          exclude: ["**/node_modules/**", "**/dist/**"],
          setupFiles: ["./test/setup-dom.ts"],
        },
      },
      {
        resolve: { alias },
        test: {
          // End to end against the built packages: Chromium suites and the packaging proof.
          name: "e2e",
          environment: "node",
          include: ["test/browser/**/*.test.ts", "test/packaging.test.ts", "test/react-versions.test.ts"],
          globalSetup: ["./test/global-setup-build.ts"],
          testTimeout: 300_000,
          hookTimeout: 600_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
