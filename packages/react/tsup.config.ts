import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/index.ts"],
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
