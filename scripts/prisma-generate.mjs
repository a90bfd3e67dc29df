#!/usr/bin/env node
// Regenerates the committed Prisma client offline. `prisma generate` only checks that a schema
// engine binary exists (it does not run it), and that binary cannot be downloaded here, so point
// PRISMA_SCHEMA_ENGINE_BINARY at a stub unless the caller has a real one.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const env = { ...process.env };
let stubDir = null;
if (!env.PRISMA_SCHEMA_ENGINE_BINARY) {
  stubDir = fs.mkdtempSync(path.join(os.tmpdir(), "reelkit-prisma-"));
  const stub = path.join(stubDir, "schema-engine");
  fs.writeFileSync(
    stub,
    "#!/bin/sh\necho 'schema engine unavailable: migrations are applied by the server' >&2\nexit 1\n",
    { mode: 0o755 },
  );
  env.PRISMA_SCHEMA_ENGINE_BINARY = stub;
}
const result = spawnSync("npx", ["prisma", "generate"], { stdio: "inherit", env });
if (stubDir) fs.rmSync(stubDir, { recursive: true, force: true });
if (result.status !== 0) process.exit(result.status ?? 1);

// The generated client gets its query compiler from a module whose one export is the WebAssembly
// binary as a base64 string literal (4.4 MB for the "fast" build). An imported module is never
// unloaded, so the server kept that text twice (the module's source and the string) for its whole
// life: 8.7 MB of heap. Reading the same file instead leaves both to the garbage collector once the
// module is compiled. Without the expected lines (a Prisma upgrade changed them), fail loudly: the
// client would still work, but the memory the server's RSS budget counts on would silently return.
const classFile = path.resolve(import.meta.dirname, "../packages/server/src/generated/prisma/internal/class.ts");
const generated = fs.readFileSync(classFile, "utf8");
const wasmImport =
  /( *)const \{ wasm \} = await import\("(@prisma\/client\/runtime\/query_compiler_\w+\.postgresql\.wasm-base64\.mjs)"\)\n *return await decodeBase64AsWasm\(wasm\)/;
const match = wasmImport.exec(generated);
if (!match) {
  console.error(`prisma-generate: ${classFile} no longer loads the query compiler as expected; update this script`);
  process.exit(1);
}
const [, indent, specifier] = match;
const patched = [
  "// Read, not imported: see scripts/prisma-generate.mjs.",
  "const { readFile } = await import('node:fs/promises')",
  "const { createRequire } = await import('node:module')",
  `const source = await readFile(createRequire(import.meta.url).resolve(${JSON.stringify(specifier)}), 'latin1')`,
  "return await decodeBase64AsWasm(source.slice(source.indexOf('\"') + 1, source.lastIndexOf('\"')))",
]
  .map((line) => indent + line)
  .join("\n");
fs.writeFileSync(classFile, generated.replace(wasmImport, patched));
