import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

/**
 * The end-to-end suites exercise what users get: the built packages (`npm pack`, `npm start`).
 * Bring the build up to date first, exactly as `npm start` does, so `npm test` works on a fresh
 * clone; when nothing changed since the last build this is only a timestamp check.
 */
export default function setup(): void {
  const root = fileURLToPath(new URL("../", import.meta.url));
  const result = spawnSync(process.execPath, ["scripts/start.mjs", "--build-only"], { cwd: root, stdio: "inherit" });
  if (result.status !== 0) throw new Error(`npm run build failed (exit ${result.status}); the e2e suites need it`);
}
