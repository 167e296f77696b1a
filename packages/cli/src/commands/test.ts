/**
 * `faultline test <file…> [--junit out.xml] [--report-dir d]`: resilience tests (docs/testing.md). Every file is
 * validated before anything starts (a bad file exits 2); each test starts what it needs, runs, and prints its
 * verdicts; the exit code is 0 only when every assertion held, 1 otherwise.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { ScenarioError } from "@faultline/protocol/scenarios";
import type { CliCommand, CliIO } from "../command.ts";
import { TestFileError } from "../errors.ts";
import { junitXml } from "../resilience/junit.ts";
import type { TestResult } from "../resilience/run.ts";
import { loadTestFile, type TestSpec } from "../resilience/spec.ts";

interface TestOptions {
  junit?: string;
  reportDir?: string;
}

function summary(r: TestResult): string {
  const lines = [
    `${r.passed ? "PASS" : "FAIL"}  ${r.name}  (${r.file}, ${(r.durationMs / 1000).toFixed(1)} s, experiment ${r.experimentId ?? "-"})`,
  ];
  for (const v of r.verdicts)
    lines.push(`  ${v.passed ? "✓" : "✗"} ${v.name}: ${v.measured} (threshold ${v.threshold})`);
  return `${lines.join("\n")}\n`;
}

export const test: CliCommand = {
  name: "test",
  register(program, io: CliIO) {
    program
      .command("test <files...>")
      .description("Run resilience tests: load, an experiment, and assertions on what must hold (exit 0/1/2)")
      .option("--junit <file>", "write JUnit XML, one test case per assertion")
      .option("--report-dir <dir>", "write an HTML report per test")
      .action(async (files: string[], o: TestOptions) => {
        // Every file and its experiment are checked before anything starts: a bad one exits 2.
        const specs = files.map((file) => loadTestFile(file));
        // Loaded on use: the other commands never load the lab or the engine.
        const { runResilienceTest, templateOf } = await import("../resilience/run.ts");
        for (const spec of specs) checkExperiment(spec, templateOf);
        const results: TestResult[] = [];
        for (const spec of specs) {
          const result = await runResilienceTest(spec, { log: (line) => io.stderr(`${line}\n`) });
          results.push(result);
          io.stdout(summary(result));
          if (o.reportDir) {
            const { resilienceReportHtml } = await import("../resilience/html.ts");
            mkdirSync(o.reportDir, { recursive: true });
            const file = join(o.reportDir, `${slug(spec.name)}.html`);
            writeFileSync(file, resilienceReportHtml(result));
            io.stdout(`  report: ${file}\n`);
          }
        }
        if (o.junit) {
          mkdirSync(dirname(o.junit), { recursive: true });
          writeFileSync(o.junit, junitXml(results));
        }
        const failed = results.filter((r) => !r.passed).length;
        io.stdout(`\n${results.length - failed} passed, ${failed} failed\n`);
        if (failed > 0) process.exitCode = 1;
      });
  },
};

/** A scenario's name and parameters, or the template file, checked up front (ScenarioError → exit 2). */
function checkExperiment(spec: TestSpec, templateOf: (spec: TestSpec) => unknown): void {
  try {
    templateOf(spec);
  } catch (error) {
    if (error instanceof ScenarioError) {
      const field =
        error.parameter === "scenario" ? "experiment.scenario" : `experiment.parameters.${error.parameter}`;
      throw new TestFileError(spec.file, [{ field, message: error.message.replace(/^[^:]+: /, "") }]);
    }
    throw error;
  }
}

const slug = (name: string) =>
  name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "") || "test";
