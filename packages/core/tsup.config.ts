import { defineConfig } from "tsup";

export default defineConfig({
  // The Kafka client and the AWS SDK sit behind subpaths and dynamic imports (split chunks), so
  // that `@reelkit/core` alone loads neither.
  entry: ["src/index.ts", "src/kafka.ts", "src/s3.ts"],
  splitting: true,
  format: ["esm"],
  // tsup sets `baseUrl` for its declaration build, deprecated in TypeScript 6.
  dts: { compilerOptions: { ignoreDeprecations: "6.0" } },
  sourcemap: true,
  clean: true,
  target: "node22",
});
