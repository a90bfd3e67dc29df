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
process.exit(result.status ?? 1);
