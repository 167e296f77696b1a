/**
 * `faultline test <file…> [--junit out.xml] [--report-dir d]`: resilience tests (docs/testing.md). Every file is
 * validated before anything starts (a bad file exits 2); each test starts what it needs, runs, and prints its
 * verdicts; the exit code is 0 only when every assertion held, 1 otherwise. Ctrl-C / SIGTERM (or the parent's
 * exit) stops the experiment, the load and the lab, writes what was measured so far marked interrupted, and exits
 * 130 / 143 (shutdown.ts; a second signal exits at once).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { ScenarioError } from "@faultline/protocol/scenarios";
import type { CliCommand, CliIO } from "../command.ts";
import { TestFileError } from "../errors.ts";
import { junitXml } from "../resilience/junit.ts";
import type { TestResult } from "../resilience/run.ts";
import { loadTestFile, type TestSpec } from "../resilience/spec.ts";
import { type StopReason, untilStopSignal } from "../shutdown.ts";

interface TestOptions {
  junit?: string;
  reportDir?: string;
}

/** 128 + the signal's number, as shells report a process a signal ended. */
function exitCodeOf(reason: StopReason): number {
  return reason === "SIGINT" ? 130 : reason === "SIGTERM" ? 143 : 129;
}

/** "2 passed, 1 failed", with the interrupted run and the files never started when there are any. */
function totals(results: readonly TestResult[], files: number): string {
  const interrupted = results.filter((r) => r.interrupted).length;
  const failed = results.filter((r) => !r.passed).length - interrupted;
  const notRun = files - results.length;
  const more = `${interrupted ? `, ${interrupted} interrupted` : ""}${notRun ? `, ${notRun} not run` : ""}`;
  return `\n${results.length - failed - interrupted} passed, ${failed} failed${more}\n`;
}

async function writeReport(dir: string, result: TestResult): Promise<string> {
  const { resilienceReportHtml } = await import("../resilience/html.ts");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${slug(result.name)}.html`);
  writeFileSync(file, resilienceReportHtml(result));
  return file;
}

function summary(r: TestResult): string {
  const verdict = r.interrupted ? `INTERRUPTED (${r.interrupted})` : r.passed ? "PASS" : "FAIL";
  const lines = [
    `${verdict}  ${r.name}  (${r.file}, ${(r.durationMs / 1000).toFixed(1)} s, experiment ${r.experimentId ?? "-"})`,
  ];
  for (const v of r.verdicts)
    lines.push(
      v.skipped
        ? `  - ${v.name}: not run`
        : `  ${v.passed ? "✓" : "✗"} ${v.name}: ${v.measured} (threshold ${v.threshold})`,
    );
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
        const interrupt = new AbortController();
        let running: Promise<unknown> = Promise.resolve();
        void untilStopSignal(
          async (reason) => {
            interrupt.abort(reason);
            await running.catch(() => {});
          },
          io,
          { exit: () => process.exit(exitCodeOf(interrupt.signal.reason)) },
        );
        const results: TestResult[] = [];
        for (const spec of specs) {
          if (interrupt.signal.aborted) break;
          const run = runResilienceTest(spec, {
            log: (line) => io.stderr(`${line}\n`),
            signal: interrupt.signal,
          });
          running = run;
          const result = await run;
          results.push(result);
          io.stdout(summary(result));
          if (o.reportDir) io.stdout(`  report: ${await writeReport(o.reportDir, result)}\n`);
        }
        if (o.junit) {
          mkdirSync(dirname(o.junit), { recursive: true });
          writeFileSync(o.junit, junitXml(results));
        }
        io.stdout(totals(results, specs.length));
        const failed = results.filter((r) => !r.passed).length;
        if (interrupt.signal.aborted) {
          io.stdout(`interrupted (${interrupt.signal.reason})\n`);
          process.exitCode = exitCodeOf(interrupt.signal.reason);
        } else if (failed > 0) process.exitCode = 1;
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
