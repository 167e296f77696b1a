/**
 * `faultline test` before anything starts: a bad test file (or experiment) exits 2 with every problem named by
 * file and field; JUnit XML carries one test case per assertion with measured vs threshold.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { junitXml } from "../src/resilience/junit.ts";
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
    assert.match(xml, /<testsuites name="faultline test" tests="2" failures="1">/);
    assert.match(xml, /<testsuite name="orders &amp; co" file="t.yaml" tests="2" failures="1" time="1.500">/);
    assert.match(xml, /<testcase classname="orders &amp; co" name="pre: p99">\s*<system-out>/);
    assert.match(
      xml,
      /<testcase classname="orders &amp; co" name="during: errorRate">\s*<failure message="during: errorRate FAILED: measured 71.43 % of 21 requests, threshold ≤ 1.00 %" type="AssertionFailed">/,
    );
  });
});
