/**
 * The orders app's resilience tests as CI runs them: `faultline test` on the passing file exits 0, on the
 * deliberately failing one exits 1, and each JUnit XML names its assertions with measured vs threshold.
 * Seconds-long windows (docs/testing.md).
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { DEFAULT_LAYER_ZIP } from "../../../packages/extension/src/layer.ts";
import { testLayer } from "../../../packages/extension/test/helpers/layer.ts";
import { buildFunctions } from "../build.ts";

const CLI = fileURLToPath(new URL("../../../packages/cli/src/main.ts", import.meta.url));
const file = (name: string) => fileURLToPath(new URL(`../resilience/${name}`, import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "faultline-orders-resilience-"));
before(async () => {
  // The lab config runs the built functions with the built layer, as the demo does.
  await Promise.all([testLayer(DEFAULT_LAYER_ZIP), buildFunctions()]);
});
after(() => rmSync(dir, { recursive: true, force: true }));

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

async function faultlineTest(name: string) {
  const junit = join(dir, `${name}.xml`);
  const child = spawn(
    process.execPath,
    ["--import", "tsx", CLI, "test", file(name), "--junit", junit, "--report-dir", join(dir, "reports")],
    {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
    },
  );
  let out = "";
  child.stdout.on("data", (c: Buffer) => {
    out += c;
  });
  child.stderr.on("data", (c: Buffer) => {
    out += c;
  });
  const [code] = await once(child, "exit");
  return { code, out, xml: readFileSync(junit, "utf8") };
}

test("the passing resilience test exits 0; its JUnit has every assertion, none failed", {
  timeout: 120_000,
}, async () => {
  const { code, out, xml } = await faultlineTest("slow-create-order.yaml");
  assert.equal(code, 0, out);
  assert.match(
    xml,
    /<testsuite name="orders stay correct[^"]*" file="[^"]*slow-create-order.yaml" tests="10" failures="0"/,
    xml,
  );
  for (const name of [
    "pre: errorRate",
    "pre: p99",
    "during: p99",
    "during: timeToEffect",
    "after: timeToRecover",
    "after: probe no order lost",
    "during: metric aws-fis-extension FaultInjected Sum {FaultId=aws:lambda:invocation-add-delay, Invocation=CreateOrder}",
    "during: metric AWS/Lambda Errors Sum {FunctionName=CreateOrder}",
  ]) {
    assert.match(
      xml,
      new RegExp(
        `<testcase classname="[^"]+" name="${esc(name)}">\\s*<system-out>${esc(name)} held: measured`,
      ),
      name,
    );
  }
  // The extension's FaultInjected count is the number of CreateOrder invocations it delayed: at least one.
  assert.match(xml, /FaultInjected Sum \{[^}]+\} held: measured [1-9]\d* over \d+\.\d s, threshold ≥ 1/);
  assert.match(out, /^PASS {2}orders stay correct/m);
  assert.match(out, /report: .*\.html/);
});

test("the deliberately failing one exits 1; JUnit names the failed assertion, measured vs threshold", {
  timeout: 120_000,
}, async () => {
  const { code, out, xml } = await faultlineTest("payments-outage.yaml");
  assert.equal(code, 1, out);
  assert.match(xml, /tests="5" failures="1"/, xml);
  assert.match(
    xml,
    /<testcase classname="[^"]+" name="during: errorRate">\s*<failure message="during: errorRate FAILED: measured \d+\.\d\d % of \d+ requests, threshold ≤ 1\.00 %"/,
    xml,
  );
  // The fault itself was seen, and the system came back: only the error-rate budget failed.
  assert.match(xml, /name="during: timeToEffect">\s*<system-out>/);
  assert.match(xml, /name="after: timeToRecover">\s*<system-out>/);
  assert.match(out, /^FAIL {2}orders survive a dependency outage/m);
  assert.match(out, /1 passed|0 passed, 1 failed/);
});
