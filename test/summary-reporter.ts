import type { Reporter, TestModule } from "vitest/node";

/**
 * Prints one closing line, `tests: N passed, N failed, N skipped`, that any CI log reader
 * understands, and lists every skipped test with its reason so a skip is never silent. Above it,
 * the slowest files, so that the time a full run takes can be budgeted from its log.
 */
const SLOWEST = 15;

export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    const skips: string[] = [];
    const slowest = testModules
      .map((mod) => ({ name: `${mod.project.name}: ${mod.relativeModuleId}`, ms: mod.diagnostic().duration }))
      .sort((a, b) => b.ms - a.ms)
      .slice(0, SLOWEST);
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
    if (slowest.length > 0) {
      const lines = slowest.map(({ name, ms }) => `  ${(ms / 1000).toFixed(1).padStart(7)} s  ${name}`);
      process.stdout.write(`\nslowest files:\n${lines.join("\n")}\n`);
    }
    if (skips.length > 0) process.stdout.write(`\nskipped tests:\n${skips.join("\n")}\n`);
    process.stdout.write(`\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}
