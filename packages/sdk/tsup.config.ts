import { defineConfig } from "tsup";

export default defineConfig([
  {
    // bin.ts is the `reelkit` CLI (Node only); built here so that one `clean` covers all of dist.
    entry: ["src/index.ts", "src/contract.ts", "src/bin.ts"],
    format: ["esm", "cjs"],
    // tsup sets `baseUrl` for its declaration build, deprecated in TypeScript 6.
    dts: { compilerOptions: { ignoreDeprecations: "6.0" } },
    sourcemap: true,
    clean: true,
    // Browser and Node alike: no Node built-ins are bundled; hls.js and tus-js-client stay external.
    platform: "neutral",
    // Node built-ins are only imported lazily, on the Node code paths.
    external: [/^node:/],
    removeNodeProtocol: false,
    target: "es2022",
  },
]);
