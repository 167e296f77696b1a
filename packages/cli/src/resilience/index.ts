/**
 * Resilience tests, for `faultline test` and for node:test users:
 *
 *   const result = await runResilienceTest(loadTestFile("resilience/delay.yaml"));
 *   assert.ok(result.passed, result.verdicts.filter((v) => !v.passed).map((v) => v.message).join("\n"));
 */
export type { Phase, Timeline, Verdict } from "./assertions.ts";
export { type Baseline, baselineOf, timeToEffect, timeToRecover } from "./effect.ts";
export { junitXml } from "./junit.ts";
export type { RequestRecord } from "./records.ts";
export { type RunOptions, runResilienceTest, type TestResult } from "./run.ts";
export { loadTestFile, parseTestSpec, type TestSpec } from "./spec.ts";
