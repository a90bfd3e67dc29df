/**
 * What the kit costs a browser: a tiny app importing <VideoPlayer>, <Uploader> and the client
 * from the built packages is bundled with esbuild (browser conditions, minified, code splitting
 * for hls.js's lazy chunk, React left to the host app), and each output chunk's gzip size is
 * split by the package its bytes come from.
 *
 *   npm run bench -- --only bundle [--no-build] [--kit-root DIR]   (DIR: another checkout to compare)
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { build, type Metafile } from "esbuild";

/** Before the player and bundle work: @reelkit/react + @reelkit/sdk + their dependencies, hls.js aside. */
export const BASELINE_KIB = 38.6;
export const GOAL_KIB = 25;

export interface BundleResult {
  /** gzip KiB downloaded up front, per package (the entry chunk and what it imports statically). */
  packages: Array<{ name: string; minifiedKib: number; gzipKib: number }>;
  totalGzipKib: number;
  /** The lazily imported hls.js chunk(s), gzip KiB. */
  hlsGzipKib: number;
  /** Other lazily imported chunks (the tus client, loaded with the first upload). */
  lazy: Array<{ packages: string; gzipKib: number }>;
  stylesGzipKib: number;
}

const ENTRY = `
import { ReelkitProvider, Uploader, VideoPlayer } from "@reelkit/react";
import { createReelkitClient } from "@reelkit/sdk";
export { ReelkitProvider, Uploader, VideoPlayer, createReelkitClient };
`;

/** The package a bundled file belongs to: the last node_modules segment, or the workspace package. */
function packageOf(input: string): string {
  const parts = input.split(/[\\/]/);
  const at = parts.lastIndexOf("node_modules");
  if (at >= 0) {
    const first = parts[at + 1] ?? "?";
    return first.startsWith("@") ? `${first}/${parts[at + 2]}` : first;
  }
  const workspace = input.match(/packages[\\/](react|sdk)[\\/]/);
  return workspace ? `@reelkit/${workspace[1]}` : "(app)";
}

const kib = (bytes: number) => bytes / 1024;

export async function runBundleBench(opts: { kitRoot: string }): Promise<BundleResult> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "reelkit-bundle-"));
  try {
    // The app lives inside the kit's root so that its node_modules (the workspace links to the
    // built packages) resolve exactly as an installed copy would.
    const appDir = fs.mkdtempSync(path.join(opts.kitRoot, "node_modules", ".reelkit-bundle-"));
    const entry = path.join(appDir, "app.js");
    fs.writeFileSync(entry, ENTRY);
    const outdir = path.join(work, "out");
    let metafile: Metafile;
    try {
      const result = await build({
        entryPoints: [entry],
        bundle: true,
        splitting: true,
        format: "esm",
        platform: "browser",
        target: "es2022",
        minify: true,
        metafile: true,
        outdir,
        logLevel: "error",
        // Resolve as an installed copy would (package.json exports), not through the
        // repository's tsconfig paths to the sources.
        tsconfigRaw: {},
        // The host app's own React is not the kit's cost.
        external: ["react", "react-dom", "react/jsx-runtime", "react-dom/client"],
        define: { "process.env.NODE_ENV": '"production"' },
      });
      metafile = result.metafile;
    } finally {
      fs.rmSync(appDir, { recursive: true, force: true });
    }

    // What a page downloads up front: the entry chunk and the chunks it imports statically.
    const initial = new Set<string>();
    const visit = (file: string) => {
      if (initial.has(file)) return;
      initial.add(file);
      for (const i of metafile.outputs[file]?.imports ?? []) if (i.kind === "import-statement") visit(i.path);
    };
    // Lazy chunks have an entryPoint too (the module imported dynamically): start from the app's.
    for (const [file, output] of Object.entries(metafile.outputs)) {
      if (output.entryPoint?.endsWith("/app.js")) visit(file);
    }

    const perPackage = new Map<string, { minified: number; gzip: number }>();
    let hlsGzip = 0;
    const lazy: BundleResult["lazy"] = [];
    for (const [file, output] of Object.entries(metafile.outputs)) {
      if (!file.endsWith(".js")) continue;
      const bytes = fs.readFileSync(path.resolve(file));
      const gzip = gzipSync(bytes, { level: 9 }).length;
      const inputs = Object.entries(output.inputs);
      const total = inputs.reduce((sum, [, i]) => sum + i.bytesInOutput, 0) || 1;
      // A chunk made mostly of hls.js is the lazy player engine, counted apart.
      const hlsBytes = inputs.filter(([p]) => packageOf(p) === "hls.js").reduce((s, [, i]) => s + i.bytesInOutput, 0);
      if (hlsBytes / total > 0.5) {
        hlsGzip += gzip;
        continue;
      }
      if (!initial.has(file)) {
        const names = [...new Set(inputs.map(([p]) => packageOf(p)))].join(", ");
        lazy.push({ packages: names, gzipKib: kib(gzip) });
        continue;
      }
      // The chunk's gzip size shared out in proportion to each package's minified bytes in it.
      for (const [input, info] of inputs) {
        const name = packageOf(input);
        const entryRow = perPackage.get(name) ?? { minified: 0, gzip: 0 };
        entryRow.minified += info.bytesInOutput;
        entryRow.gzip += (gzip * info.bytesInOutput) / total;
        perPackage.set(name, entryRow);
      }
    }
    const packages = [...perPackage.entries()]
      .filter(([, v]) => v.minified > 0)
      .map(([name, v]) => ({ name, minifiedKib: kib(v.minified), gzipKib: kib(v.gzip) }))
      .sort((a, b) => b.gzipKib - a.gzipKib);
    const styles = path.join(opts.kitRoot, "packages/react/dist/styles.css");
    return {
      packages,
      totalGzipKib: packages.reduce((sum, p) => sum + p.gzipKib, 0),
      hlsGzipKib: kib(hlsGzip),
      lazy,
      stylesGzipKib: fs.existsSync(styles) ? kib(gzipSync(fs.readFileSync(styles), { level: 9 }).length) : 0,
    };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

export function printBundleResult(result: BundleResult, kitRoot: string): void {
  console.log(`\nbundle: the kit's browser cost (esbuild, minified, gzip -9; React is the host's) from ${kitRoot}`);
  for (const p of result.packages) {
    console.log(
      `  ${p.name.padEnd(24)} ${p.gzipKib.toFixed(1).padStart(6)} KiB gzip  (${p.minifiedKib.toFixed(1)} KiB minified)`,
    );
  }
  const typebox = result.packages.find((p) => p.name === "@sinclair/typebox");
  console.log(`  ${"total before hls.js".padEnd(24)} ${result.totalGzipKib.toFixed(1).padStart(6)} KiB gzip`);
  console.log(`  ${"hls.js (lazy chunk)".padEnd(24)} ${result.hlsGzipKib.toFixed(1).padStart(6)} KiB gzip`);
  for (const chunk of result.lazy) {
    console.log(`  ${"lazy chunk".padEnd(24)} ${chunk.gzipKib.toFixed(1).padStart(6)} KiB gzip (${chunk.packages})`);
  }
  console.log(`  ${"styles.css".padEnd(24)} ${result.stylesGzipKib.toFixed(1).padStart(6)} KiB gzip (optional import)`);
  console.log(
    `  goal ≤ ${GOAL_KIB} KiB before hls.js: ${result.totalGzipKib <= GOAL_KIB ? "met" : "NOT met"}; ` +
      `${(result.totalGzipKib / BASELINE_KIB).toFixed(2)}× the ${BASELINE_KIB} KiB baseline ` +
      `(${(BASELINE_KIB - result.totalGzipKib).toFixed(1)} KiB less); TypeBox ${typebox ? `${typebox.gzipKib.toFixed(1)} KiB` : "absent"}`,
  );
}
