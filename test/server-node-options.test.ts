import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { SERVER_HEAP_FLAGS, serverNodeOptions } from "../scripts/server-node-options.mjs";

const run = promisify(execFile);

/** The V8 heap limits of a Node process started with `NODE_OPTIONS`. */
async function heapOf(nodeOptions: string): Promise<{ limitMb: number; semiSpaceMb: number }> {
  const { stdout } = await run(
    process.execPath,
    [
      "-e",
      `const v8 = require("node:v8");
       // Objects that survive a few scavenges make V8 grow the young generation to its maximum
       // (64 MiB semi-spaces without the flag).
       let keep = []; for (let i = 0; i < 1e7; i++) { keep.push({ i }); if (keep.length > 2e5) keep = []; }
       const grown = v8.getHeapSpaceStatistics().find((s) => s.space_name === "new_space");
       console.log(JSON.stringify({ limitMb: v8.getHeapStatistics().heap_size_limit / 2 ** 20, semiSpaceMb: grown.space_size / 2 / 2 ** 20 }));`,
    ],
    { env: { ...process.env, NODE_OPTIONS: nodeOptions } },
  );
  return JSON.parse(stdout) as { limitMb: number; semiSpaceMb: number };
}

describe("the server's V8 heap flags (npm start)", () => {
  it("are accepted in NODE_OPTIONS and bound the young and old generations", async () => {
    expect((await heapOf("")).semiSpaceMb).toBeGreaterThan(8);
    const heap = await heapOf(serverNodeOptions(""));
    expect(heap.semiSpaceMb).toBeLessThanOrEqual(4);
    // The limit is the old generation's plus the young generation's.
    expect(heap.limitMb).toBeGreaterThanOrEqual(512);
    expect(heap.limitMb).toBeLessThan(600);
  });

  it("give way to the operator's NODE_OPTIONS, flag by flag", async () => {
    expect(serverNodeOptions(undefined)).toBe(SERVER_HEAP_FLAGS.join(" "));
    expect(serverNodeOptions("--max-old-space-size=2048 --enable-source-maps")).toBe(
      "--max-semi-space-size=4 --max-old-space-size=2048 --enable-source-maps",
    );
    expect(serverNodeOptions("--max_semi_space_size=32")).toBe("--max-old-space-size=512 --max_semi_space_size=32");
    const heap = await heapOf(serverNodeOptions("--max-old-space-size=1024"));
    expect(heap.limitMb).toBeGreaterThanOrEqual(1024);
    expect(heap.limitMb).toBeLessThan(1100);
  });
});
