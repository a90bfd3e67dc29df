import type { Reporter, TestModule } from "vitest/node";

/**
 * Prints one closing line, `tests: N passed, N failed, N skipped`, that any CI log reader
 * understands, and lists every skipped test with its reason so a skip is never silent.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    const skips: string[] = [];
    for (const mod of testModules) {
      for (const test of mod.children.allTests()) {
        const state = test.result().state;
        if (state === "passed") passed++;
        else if (state === "failed") failed++;
        else {
          skipped++;
          const result = test.result() as { note?: string };
          const note = result.note ?? test.options.mode;
          skips.push(`  ${test.fullName} (${note})`);
        }
      }
      if (mod.state() === "failed" && mod.children.size === 0) failed++;
    }
    if (skips.length > 0) process.stdout.write(`\nskipped tests:\n${skips.join("\n")}\n`);
    process.stdout.write(`\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}
