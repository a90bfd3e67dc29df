import path from "node:path";
import { defineConfig, type Options } from "tsup";

type EsbuildPlugin = NonNullable<Options["esbuildPlugins"]>[number];

const shared = {
  format: ["esm", "cjs"],
  sourcemap: true,
  // Browser and Node alike: hls.js and tus-js-client stay external.
  platform: "neutral",
  // Node built-ins are only imported lazily, on the Node code paths of the Node build.
  external: [/^node:/],
  removeNodeProtocol: false,
  target: "es2022",
} satisfies Options;

/**
 * The browser build swaps the upload source adapter (File/Blob, path, Buffer, stream) for its
 * File/Blob-only twin, so that no `node:*` import is left for a bundler to shim or warn about.
 */
const browserUploadSource: EsbuildPlugin = {
  name: "reelkit-browser-upload-source",
  setup(build) {
    build.onResolve({ filter: /^\.\/upload-source\.js$/ }, (args) => ({
      path: path.join(args.resolveDir, "upload-source.browser.ts"),
    }));
  },
};

export default defineConfig([
  {
    ...shared,
    // bin.ts is the `reelkit` CLI, server.ts `@reelkit/sdk/server` (both Node only).
    entry: ["src/index.ts", "src/contract.ts", "src/bin.ts", "src/server.ts"],
    // tsup sets `baseUrl` for its declaration build, deprecated in TypeScript 6.
    dts: { compilerOptions: { ignoreDeprecations: "6.0" } },
    // dist/index.browser.* is the other build's, which runs at the same time.
    clean: ["!index.browser.*"],
  },
  {
    ...shared,
    // Picked by bundlers through the "browser" export condition; it has the same API, so it
    // shares the declarations of the main build. Flat in dist/, next to the files it mirrors.
    entry: { "index.browser": "src/index.ts" },
    outDir: "dist",
    // Overwritten on every build; the main build's clean leaves these files alone.
    clean: false,
    esbuildPlugins: [browserUploadSource],
  },
]);
