/**
 * JUnit XML: one <testsuite> per test file, one <testcase> per assertion, the failure message measured vs threshold.
 * An interrupted run has an <error> case saying so (and a property `interrupted`), its unreached assertions <skipped>.
 */
import type { Verdict } from "./assertions.ts";
import type { TestResult } from "./run.ts";

const xml = (s: string) =>
  s.replace(
    /[<>&"']/g,
    (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;" })[c]!,
  );

export function junitXml(results: readonly TestResult[]): string {
  const suites = results.map((r) => {
    const c = counts([r]);
    const cases = r.verdicts.map((v) => {
      const open = `    <testcase classname="${xml(r.name)}" name="${xml(v.name)}">`;
      return `${open}\n      ${caseBody(v)}\n    </testcase>`;
    });
    const properties = r.interrupted
      ? [`    <properties><property name="interrupted" value="${xml(r.interrupted)}"/></properties>`]
      : [];
    return [
      `  <testsuite name="${xml(r.name)}" file="${xml(r.file)}" tests="${c.tests}" failures="${c.failures}" errors="${c.errors}" skipped="${c.skipped}" time="${(r.durationMs / 1000).toFixed(3)}">`,
      ...properties,
      ...cases,
      "  </testsuite>",
    ].join("\n");
  });
  const c = counts(results);
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="faultline test" tests="${c.tests}" failures="${c.failures}" errors="${c.errors}" skipped="${c.skipped}">\n${suites.join("\n")}\n</testsuites>\n`;
}

function caseBody(v: Verdict): string {
  if (v.passed) return `<system-out>${xml(v.message)}</system-out>`;
  if (v.skipped) return `<skipped message="${xml(v.message)}"/>`;
  if (v.interrupted)
    return `<error message="${xml(v.message)}" type="Interrupted">${xml(v.measured)}</error>`;
  return `<failure message="${xml(v.message)}" type="AssertionFailed">measured: ${xml(v.measured)}\nthreshold: ${xml(v.threshold)}</failure>`;
}

function counts(results: readonly TestResult[]) {
  const all = results.flatMap((r) => r.verdicts);
  return {
    tests: all.length,
    failures: all.filter((v) => !v.passed && !v.skipped && !v.interrupted).length,
    errors: all.filter((v) => v.interrupted).length,
    skipped: all.filter((v) => v.skipped).length,
  };
}
