// Runs every package's tests with node's test runner (TypeScript through tsx), one file at a time:
// the suites start real processes and timing-sensitive servers on a 2-core machine. Only the files in
// CONCURRENT (no process, no port, no timer: pure computation) run first, two at a time.
// A file with a failing test is run once more, alone, and named as flaky if it then passes: the real-process
// suites on a loaded 2-core machine have a few timing-sensitive tests, and a retry that fails again still fails.
// Afterwards it fails the run if any test left a process behind, and lists the slowest files (CI's time budget).
import { spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const only = process.argv.slice(2);
const files = [];
for (const parent of ["packages", "examples"]) {
  for (const pkg of readdirSync(join(root, parent)).sort()) {
    if (only.length > 0 && !only.includes(pkg)) continue;
    const dir = join(root, parent, pkg, "test");
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir).sort()) {
      if (f.endsWith(".test.ts")) files.push(join(parent, pkg, "test", f));
    }
  }
}

/**
 * Files that start no process, open no port and wait on no timer, so running two at once cannot change what they
 * check (only how long each takes). A file added here must stay that way; anything else runs alone.
 */
const CONCURRENT = new Set([
  "packages/cdk/test/cloudformation.test.ts",
  "packages/cdk/test/enable.test.ts",
  "packages/cdk/test/experiment.test.ts",
  "packages/cdk/test/nag.test.ts",
  "packages/cli/test/resilience-effect.test.ts",
  "packages/engine/test/fidelity.test.ts",
  "packages/engine/test/iam.test.ts",
  "packages/engine/test/lifecycle.test.ts",
  "packages/engine/test/template.test.ts",
  "packages/extension/test/injector.test.ts",
  "packages/extension/test/settings.test.ts",
  "packages/lab/test/env-layers.test.ts",
  "packages/lab/test/env-runtime-api-state.test.ts",
  "packages/lab/test/lab-alarms.test.ts",
  "packages/lab/test/metrics-store.test.ts",
  "packages/protocol/test/actions.test.ts",
  "packages/protocol/test/protocol.test.ts",
  "packages/protocol/test/scenarios.test.ts",
  "packages/report/test/analysis.test.ts",
]);

// Labs started by this run mark their processes with this id, so a run beside another checkout's
// (or another run's) labs only counts its own.
const runId = randomUUID();
const before = descendantsOfInit();
const scratch = mkdtempSync(join(tmpdir(), "faultline-tests-"));
const startedMs = performance.now();
const passes = [
  { name: "concurrent", list: files.filter((f) => CONCURRENT.has(f)), concurrency: 2 },
  { name: "serial", list: files.filter((f) => !CONCURRENT.has(f)), concurrency: 1 },
].filter((pass) => pass.list.length > 0);
let status = 0;
/** A pass failed with no failing test named (the runner itself failed): nothing to retry. */
let unnamed = false;
const failed = [];
for (const { name, list, concurrency } of passes) {
  const ran = runFiles(list, concurrency, join(scratch, `${name}.txt`), join(scratch, `${name}.durations`));
  const named = failedFiles(join(scratch, `${name}.txt`));
  failed.push(...named);
  if (ran.status !== 0) {
    status = ran.status ?? 1;
    unnamed ||= named.length === 0;
  }
}
if (status !== 0 && !unnamed) {
  console.log(
    `\nretrying once, alone, the ${failed.length} file(s) with a failing test: ${failed.join(" ")}`,
  );
  const retry = runFiles(failed, 1, join(scratch, "retry.txt"), join(scratch, "retry.durations"));
  const still = failedFiles(join(scratch, "retry.txt"));
  status = retry.status ?? 1;
  if (status === 0) console.log(`\nflaky (failed, then passed on the retry): ${failed.join(" ")}`);
  else console.log(`\nfailed again on the retry: ${still.join(" ") || failed.join(" ")}`);
}
printSlowest(
  passes.map((pass) => join(scratch, `${pass.name}.durations`)),
  performance.now() - startedMs,
);
rmSync(scratch, { recursive: true, force: true });

const leftovers = strayProcesses(before);
if (leftovers.length > 0) {
  console.error(`\nstray processes left behind by the tests:\n${leftovers.join("\n")}`);
  process.exit(1);
}
process.exit(status);

function runFiles(list, concurrency, report, durations) {
  return spawnSync(
    process.execPath,
    [
      "--import",
      "tsx",
      "--test",
      `--test-concurrency=${concurrency}`,
      "--test-reporter=spec",
      "--test-reporter-destination=stdout",
      "--test-reporter=spec",
      `--test-reporter-destination=${report}`,
      `--test-reporter=${join(root, "scripts", "test-durations-reporter.mjs")}`,
      `--test-reporter-destination=${durations}`,
      ...list,
    ],
    { cwd: root, stdio: "inherit", env: { ...process.env, FAULTLINE_TEST: "1", FAULTLINE_TEST_RUN: runId } },
  );
}

/** The 15 slowest files of the first passes (wall time, process start included), for CI's time budget. */
function printSlowest(durationFiles, totalMs) {
  const rows = durationFiles
    .filter((f) => existsSync(f))
    .flatMap((f) => readFileSync(f, "utf8").split("\n"))
    .filter(Boolean)
    .map((line) => line.split("\t"))
    .map(([ms, file]) => ({ ms: Number(ms), file }))
    .sort((a, b) => b.ms - a.ms);
  const sumMs = rows.reduce((sum, r) => sum + r.ms, 0);
  console.log(`\n${rows.length} files in ${(totalMs / 1000).toFixed(0)} s (retry included); the slowest:`);
  for (const { ms, file } of rows.slice(0, 15)) {
    console.log(
      `${(ms / 1000).toFixed(1).padStart(7)} s  ${((100 * ms) / sumMs).toFixed(0).padStart(2)} %  ${file}`,
    );
  }
}

/** The test files named under the spec reporter's "failing tests:" list. */
function failedFiles(report) {
  if (!existsSync(report)) return [];
  const text = readFileSync(report, "utf8");
  const list = text.slice(text.lastIndexOf("failing tests:"));
  if (!text.includes("failing tests:")) return [];
  const named = [...list.matchAll(/^test at (\S+?):\d+:\d+$/gm)].map((m) => m[1]);
  return [...new Set(named)].filter((f) => files.includes(f));
}

/** Processes whose command line mentions this checkout, minus those that existed before the run. */
function descendantsOfInit() {
  const seen = new Set();
  for (const entry of readdirSync("/proc")) {
    if (/^\d+$/.test(entry)) seen.add(entry);
  }
  return seen;
}

function strayProcesses(before) {
  const stray = [];
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid) || before.has(pid) || Number(pid) === process.pid) continue;
    let cmd = "";
    let environ = "";
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ").trim();
      environ = readFileSync(`/proc/${pid}/environ`, "utf8");
    } catch {
      continue;
    }
    // Only processes the lab marks as its own count: anything else on the machine is not ours.
    if (environ.includes("FAULTLINE_LAB_OWNER=") && environ.includes(`FAULTLINE_TEST_RUN=${runId}\0`) && cmd)
      stray.push(`${pid} ${cmd}`);
  }
  return stray;
}
