import { createRequire } from "node:module";
import type { Page } from "playwright-core";

const axeScript = createRequire(import.meta.url).resolve("axe-core/axe.min.js");

export interface AxeViolation {
  id: string;
  impact: string;
  help: string;
  /** How many elements break the rule. */
  nodes: number;
}

/**
 * axe-core's violations on the page as it is now (the whole document, or what `selector`
 * matches). The script is injected once per page; a page whose CSP forbids injected scripts
 * needs it relaxed for the audit.
 */
export async function axeAudit(page: Page, selector?: string): Promise<AxeViolation[]> {
  const loaded = await page.evaluate(() => "axe" in window);
  if (!loaded) await page.addScriptTag({ path: axeScript });
  return page.evaluate(async (context) => {
    const { axe } = window as unknown as {
      axe: {
        run: (
          ctx: Document | string,
        ) => Promise<{ violations: Array<{ id: string; impact: string; help: string; nodes: unknown[] }> }>;
      };
    };
    const result = await axe.run(context ?? document);
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length }));
  }, selector);
}

/** The violations that fail a page: serious and critical ones. */
export const blocking = (violations: AxeViolation[]) =>
  violations.filter((v) => v.impact === "serious" || v.impact === "critical");
