/**
 * `faultline test` before anything starts: a bad test file (or experiment) exits 2 with every problem named by
 * file and field; JUnit XML carries one test case per assertion with measured vs threshold.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import type { Verdict } from "../src/resilience/assertions.ts";
import { junitXml } from "../src/resilience/junit.ts";
import { metricVerdict } from "../src/resilience/metrics.ts";
import { parseTestSpec } from "../src/resilience/spec.ts";
import { runCliArgs } from "./run-cli.ts";

const dir = mkdtempSync(join(tmpdir(), "faultline-test-file-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const good = {
  name: "t",
  endpoints: { fis: "http://127.0.0.1:1" },
  load: { rate: 5, api: "http://127.0.0.1:1", requests: [{ method: "GET", path: "/" }] },
  experiment: { scenario: "brownout" },
  windows: { pre: 2, post: 2 },
  assertions: { pre: { errorRate: { max: 0.01 } } },
};
const write = (name: string, text: string) => {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
};

describe("faultline test: the test file", () => {
  test("a valid file gets its defaults", () => {
    const spec = parseTestSpec(good, "t.json", dir);
    assert.equal(spec.windows.warmup, 2);
    assert.equal(spec.load.requests![0]!.weight, 1);
    assert.deepEqual(spec.assertions.after.probes, []);
  });

  test("bad files exit 2 naming the file and every field, and start nothing", async () => {
    const cases: [string, string, RegExp[]][] = [
      [
        "no-name.yaml",
        "load: {rate: 0}\n",
        [
          /no-name\.yaml: name: must name the test/,
          /load\.rate: must be a positive number of requests per second/,
        ],
      ],
      ["broken.yaml", "name: [unclosed\n", [/broken\.yaml: not valid YAML/]],
      ["broken.json", "{", [/broken\.json: not valid JSON/]],
      [
        "both.json",
        JSON.stringify({ ...good, lab: "lab.json" }),
        [/both\.json: \(top level\): needs exactly one of lab, endpoints/],
      ],
      [
        "windows.json",
        JSON.stringify({ ...good, windows: { pre: -1, post: 2 } }),
        [/windows\.json: windows\.pre: must be a positive number of seconds/],
      ],
      [
        "typo.json",
        JSON.stringify({ ...good, assertions: { during: { p99: { max: 3000 } } } }),
        [/typo\.json: assertions\.during\.p99/],
      ],
      [
        "ratio.json",
        JSON.stringify({ ...good, assertions: { pre: { errorRate: { max: 5 } } } }),
        [/assertions\.pre\.errorRate\.max: must be a ratio from 0 to 1/],
      ],
      [
        "scenario.json",
        JSON.stringify({
          ...good,
          experiment: { scenario: "brownout", parameters: { errorPercentages: "1,500" } },
        }),
        [
          /scenario\.json: experiment\.parameters\.errorPercentages: must be a comma-separated list of whole percentages from 1 to 100, got "500"/,
        ],
      ],
      [
        "metric.json",
        JSON.stringify({
          ...good,
          assertions: {
            during: {
              metrics: [
                { namespace: "AWS/Lambda", name: "Errors", statistic: "Total" },
                { namespace: "AWS/Lambda", name: "Errors", max: "none" },
              ],
            },
          },
        }),
        [
          /metric\.json: assertions\.during\.metrics\.0\.statistic: must be Sum, SampleCount, Average, Minimum, Maximum or a percentile such as p99/,
          /assertions\.during\.metrics\.1\.max: must be a number/,
        ],
      ],
      [
        "metric-threshold.json",
        JSON.stringify({
          ...good,
          assertions: { after: { metrics: [{ namespace: "AWS/Lambda", name: "Errors" }] } },
        }),
        [
          /metric-threshold\.json: assertions\.after\.metrics\.0: needs min or max \(the threshold\)/,
          /assertions\.after\.metrics\.0: needs endpoints\.cloudwatch \(where the metric is read\)/,
        ],
      ],
      ["missing.yaml", "", []],
    ];
    for (const [name, text, messages] of cases) {
      const file = name === "missing.yaml" ? join(dir, "nope.yaml") : write(name, text);
      const out = await runCliArgs("test", file);
      assert.equal(out.code, 2, `${name}: ${out.stdout}${out.stderr}`);
      for (const m of messages) assert.match(out.stderr, m, name);
      assert.equal(out.stdout, "", `${name}: nothing ran`);
    }
  });

  test("JUnit XML: one test case per assertion; a failure says measured vs threshold", () => {
    const xml = junitXml([
      {
        name: "orders & co",
        file: "t.yaml",
        passed: false,
        records: [],
        durationMs: 1500,
        verdicts: [
          {
            name: "pre: p99",
            phase: "pre",
            passed: true,
            measured: "80 ms",
            threshold: "≤ 1000 ms",
            message: "pre: p99 held: measured 80 ms, threshold ≤ 1000 ms",
          },
          {
            name: "during: errorRate",
            phase: "during",
            passed: false,
            measured: "71.43 % of 21 requests",
            threshold: "≤ 1.00 %",
            message: "during: errorRate FAILED: measured 71.43 % of 21 requests, threshold ≤ 1.00 %",
          },
        ],
      },
    ]);
    assert.match(xml, /<testsuites name="faultline test" tests="2" failures="1" errors="0" skipped="0">/);
    assert.match(
      xml,
      /<testsuite name="orders &amp; co" file="t.yaml" tests="2" failures="1" errors="0" skipped="0" time="1.500">/,
    );
    assert.match(xml, /<testcase classname="orders &amp; co" name="pre: p99">\s*<system-out>/);
    assert.match(
      xml,
      /<testcase classname="orders &amp; co" name="during: errorRate">\s*<failure message="during: errorRate FAILED: measured 71.43 % of 21 requests, threshold ≤ 1.00 %" type="AssertionFailed">/,
    );
  });

  test("JUnit XML of an interrupted run: an error case says so, the unreached assertions are skipped", () => {
    const v = (name: string, extra: Partial<Verdict>): Verdict => ({
      name,
      phase: "during",
      passed: false,
      measured: "interrupted by SIGTERM during the experiment",
      threshold: "-",
      message: `${name}: interrupted by SIGTERM`,
      ...extra,
    });
    const xml = junitXml([
      {
        name: "t",
        file: "t.yaml",
        passed: false,
        records: [],
        durationMs: 900,
        interrupted: "SIGTERM",
        verdicts: [
          v("during: run completed", { interrupted: true }),
          v("during: experiment completed", { measured: "stopped (User stopped)", threshold: "completed" }),
          v("after: timeToRecover", { skipped: true }),
        ],
      },
    ]);
    assert.match(xml, /<testsuites name="faultline test" tests="3" failures="1" errors="1" skipped="1">/);
    assert.match(xml, /<property name="interrupted" value="SIGTERM"\/>/);
    assert.match(xml, /name="during: run completed">\s*<error message="[^"]+" type="Interrupted">/);
    assert.match(xml, /name="during: experiment completed">\s*<failure [^>]*>measured: stopped/);
    assert.match(xml, /name="after: timeToRecover">\s*<skipped message=/);
  });
});

describe("named-metric assertions (CloudWatch)", () => {
  const spec = parseTestSpec(
    {
      ...good,
      endpoints: { ...good.endpoints, cloudwatch: "http://127.0.0.1:1" },
      assertions: {
        during: {
          metrics: [
            {
              namespace: "aws-fis-extension",
              name: "FaultInjected",
              dimensions: { FaultId: "slowdown", Invocation: "orders" },
              min: 1,
            },
            { namespace: "AWS/Lambda", name: "Duration", statistic: "p99", max: 500, label: "orders p99" },
          ],
        },
      },
    },
    "t.json",
    dir,
  );
  const [injected, duration] = spec.assertions.during.metrics as [never, never];
  const window = 4000;

  test("a statistic at or past its min / max holds; the message has the value, the window and the threshold", () => {
    const held = metricVerdict("during", injected, { value: 3, windowMs: window });
    assert.equal(held.passed, true);
    assert.equal(
      held.message,
      "during: metric aws-fis-extension FaultInjected Sum {FaultId=slowdown, Invocation=orders} held: measured 3 over 4.0 s, threshold ≥ 1",
    );
    assert.equal(metricVerdict("during", injected, { value: 1, windowMs: window }).passed, true);
    const slow = metricVerdict("during", duration, { value: 612.25, windowMs: window });
    assert.equal(slow.passed, false);
    assert.equal(slow.message, "during: orders p99 FAILED: measured 612.250 over 4.0 s, threshold ≤ 500");
    assert.equal(metricVerdict("during", duration, { value: 500, windowMs: window }).passed, true);
  });

  test("no datapoint: a Sum counts 0 (so FaultInjected ≥ 1 fails), any other statistic has nothing to judge", () => {
    const none = metricVerdict("during", injected, { value: undefined, windowMs: window });
    assert.equal(none.passed, false);
    assert.equal(none.measured, "0 (no datapoints) over 4.0 s");
    const noLatency = metricVerdict("during", duration, { value: undefined, windowMs: window });
    assert.equal(noLatency.passed, false);
    assert.equal(noLatency.measured, "no datapoints over 4.0 s");
  });

  test("no datapoint for these dimensions: the message names the dimension sets CloudWatch does have", () => {
    const other = "{FaultId=aws:lambda:invocation-add-delay, Invocation=orders}";
    const v = metricVerdict("during", injected, { value: undefined, windowMs: window, elsewhere: [other] });
    assert.equal(v.measured, `0 (no datapoints) over 4.0 s; CloudWatch has FaultInjected with ${other}`);
  });

  test("CloudWatch unreachable or refusing: the assertion fails, saying why", () => {
    const failed = metricVerdict("during", injected, { error: "connect ECONNREFUSED 127.0.0.1:1" });
    assert.equal(failed.passed, false);
    assert.match(failed.message, /FAILED: measured not read: connect ECONNREFUSED/);
  });
});
