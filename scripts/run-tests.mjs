// Runs every package's tests with node's test runner (TypeScript through tsx), one file at a time:
// the suites start real processes and timing-sensitive servers on a 2-core machine.
// A file with a failing test is run once more, alone, and named as flaky if it then passes: the real-process
// suites on a loaded 2-core machine have a few timing-sensitive tests, and a retry that fails again still fails.
// Afterwards it fails the run if any test left a process behind.
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

// Labs started by this run mark their processes with this id, so a run beside another checkout's
// (or another run's) labs only counts its own.
const runId = randomUUID();
const before = descendantsOfInit();
const scratch = mkdtempSync(join(tmpdir(), "faultline-tests-"));
let result = runFiles(files, join(scratch, "first.txt"));
const failed = failedFiles(join(scratch, "first.txt"));
if (result.status !== 0 && failed.length > 0) {
  console.log(
    `\nretrying once, alone, the ${failed.length} file(s) with a failing test: ${failed.join(" ")}`,
  );
  result = runFiles(failed, join(scratch, "retry.txt"));
  const still = failedFiles(join(scratch, "retry.txt"));
  if (result.status === 0) console.log(`\nflaky (failed, then passed on the retry): ${failed.join(" ")}`);
  else console.log(`\nfailed again on the retry: ${still.join(" ") || failed.join(" ")}`);
}
rmSync(scratch, { recursive: true, force: true });

const leftovers = strayProcesses(before);
if (leftovers.length > 0) {
  console.error(`\nstray processes left behind by the tests:\n${leftovers.join("\n")}`);
  process.exit(1);
}
process.exit(result.status ?? 1);

function runFiles(list, report) {
  return spawnSync(
    process.execPath,
    [
      "--import",
      "tsx",
      "--test",
      "--test-concurrency=1",
      "--test-reporter=spec",
      "--test-reporter-destination=stdout",
      "--test-reporter=spec",
      `--test-reporter-destination=${report}`,
      ...list,
    ],
    { cwd: root, stdio: "inherit", env: { ...process.env, FAULTLINE_TEST: "1", FAULTLINE_TEST_RUN: runId } },
  );
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
