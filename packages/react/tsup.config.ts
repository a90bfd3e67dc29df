import fs from "node:fs/promises";
import path from "node:path";
import { defineConfig, type Options } from "tsup";

type EsbuildPlugin = NonNullable<Options["esbuildPlugins"]>[number];

/** `import css from "./x.css?inline"` (the custom element's shadow root styles) as a string, as Vite does. */
const inlineCss: EsbuildPlugin = {
  name: "reelkit-inline-css",
  setup(build) {
    // The path keeps its "?inline": tsup's own CSS loader takes every path ending in ".css".
    build.onResolve({ filter: /\.css\?inline$/ }, (args) => ({
      path: path.join(args.resolveDir, args.path),
      namespace: "inline-css",
    }));
    build.onLoad({ filter: /.*/, namespace: "inline-css" }, async (args) => ({
      contents: await fs.readFile(args.path.replace(/\?inline$/, ""), "utf8"),
      loader: "text",
    }));
  },
};

export default defineConfig({
  // element.tsx: <reelkit-player>, its own entry so that importing it is what defines it.
  entry: ["src/index.ts", "src/element.tsx"],
  esbuildPlugins: [inlineCss],
  format: ["esm", "cjs"],
  // tsup sets `baseUrl` for its declaration build, deprecated in TypeScript 6.
  dts: { compilerOptions: { ignoreDeprecations: "6.0" } },
  sourcemap: true,
  clean: true,
  target: "es2022",
  // The host app provides React; the sdk is a dependency resolved by the host's bundler.
  external: ["react", "react-dom", "react/jsx-runtime", "@reelkit/sdk"],
  // Plain CSS shipped beside the code; importing it is the host's choice (no global styles).
  onSuccess: "cp src/styles.css dist/styles.css",
});
