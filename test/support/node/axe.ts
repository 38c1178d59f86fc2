// An accessibility audit of the page in view with axe-core. The pages' CSP (rightly) refuses injected scripts, so the
// page must belong to a browser context made with `bypassCSP: true`: in the test only.
import axe from "axe-core";
import type { Page } from "playwright-core";

/** Every serious or critical violation axe finds, one line each: rule, what it asks, and where. */
export async function seriousViolations(page: Page): Promise<string[]> {
  if (!(await page.evaluate(() => "axe" in window))) await page.addScriptTag({ content: axe.source });
  const results = await page.evaluate(() => (window as unknown as { axe: typeof axe }).axe.run(document, { resultTypes: ["violations"] }));
  return results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}
