/** JUnit XML: one <testsuite> per test file, one <testcase> per assertion, the failure message measured vs threshold. */
import type { TestResult } from "./run.ts";

const xml = (s: string) =>
  s.replace(
    /[<>&"']/g,
    (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;" })[c]!,
  );

export function junitXml(results: readonly TestResult[]): string {
  const suites = results.map((r) => {
    const failures = r.verdicts.filter((v) => !v.passed).length;
    const cases = r.verdicts.map((v) => {
      const open = `    <testcase classname="${xml(r.name)}" name="${xml(v.name)}">`;
      const body = v.passed
        ? `\n      <system-out>${xml(v.message)}</system-out>\n`
        : `\n      <failure message="${xml(v.message)}" type="AssertionFailed">measured: ${xml(v.measured)}\nthreshold: ${xml(v.threshold)}</failure>\n`;
      return `${open}${body}    </testcase>`;
    });
    return [
      `  <testsuite name="${xml(r.name)}" file="${xml(r.file)}" tests="${r.verdicts.length}" failures="${failures}" time="${(r.durationMs / 1000).toFixed(3)}">`,
      ...cases,
      "  </testsuite>",
    ].join("\n");
  });
  const tests = results.reduce((n, r) => n + r.verdicts.length, 0);
  const failures = results.reduce((n, r) => n + r.verdicts.filter((v) => !v.passed).length, 0);
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="faultline test" tests="${tests}" failures="${failures}">\n${suites.join("\n")}\n</testsuites>\n`;
}
