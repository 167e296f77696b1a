/**
 * `npm run demo` end to end with short windows, as CI runs it: the orders app in the lab (real function processes
 * under aws-lambda-ric with the faultline layer, dynalite, the API front), the engine behind the FIS API, steady
 * load, a delay experiment then an error experiment, each with its report. Asserted on the report's numbers (and
 * on what the caller and DynamoDB saw): what each fault means.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import type { ExperimentSummary } from "../demo.ts";

const DEMO = fileURLToPath(new URL("../demo.ts", import.meta.url));
// Report windows are cut into 5 s buckets for the recovery band: three per window keep it meaningful.
const [PRE, DURING, POST] = [15, 15, 15];
const dir = mkdtempSync(join(tmpdir(), "faultline-orders-demo-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("npm run demo: delay and error experiments on the orders app, reports with the numbers that show them", {
  timeout: 240_000,
}, async () => {
  const summaryFile = join(dir, "summary.json");
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      DEMO,
      ...["--windows", `${PRE},${DURING},${POST}`, "--rate", "5", "--experiments", "delay,error"],
      ...["--out", join(dir, "reports"), "--summary", summaryFile],
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  child.stdout.on("data", (chunk: Buffer) => {
    out += chunk;
  });
  child.stderr.on("data", (chunk: Buffer) => {
    out += chunk;
  });
  const [code] = await once(child, "exit");
  assert.equal(code, 0, out);
  const summaries = JSON.parse(readFileSync(summaryFile, "utf8")) as ExperimentSummary[];
  const [delay, error] = summaries;
  assert.ok(delay && error, out);
  // Every failure below shows what the demo printed and measured.
  const why = (what: string) => `${what}\n${out}\n${JSON.stringify(summaries, null, 2)}`;
  const phase = (s: ExperimentSummary, name: string) => s.report.phases.find((p) => p.name === name)!;

  // Both ran their course and have a report on disk, whose path the demo printed.
  for (const s of [delay, error]) {
    assert.equal(s.status, "completed", out);
    assert.ok(s.report.html && existsSync(s.report.html), `report of ${s.kind}: ${out}`);
    assert.ok(out.includes(s.report.html), "the report's path is printed");
    assert.ok(
      phase(s, "pre").requests > 0 && phase(s, "pre").errorRate === 0,
      `${s.kind}: a clean steady state`,
    );
  }

  // Delay: p50 rises by at least 2000 ms over the pre phase, and comes back inside the band after.
  const [pre, during, post] = ["pre", "during", "post"].map((n) => phase(delay, n));
  assert.ok(during!.p50! - pre!.p50! >= 2000, why(`delay p50 ${pre!.p50} → ${during!.p50}`));
  assert.ok(post!.p50! < pre!.p50! * 2 + 50, why(`post p50 ${post!.p50} back near pre ${pre!.p50}`));
  assert.ok(delay.caller.effect.p50! >= 2000, "the caller saw the delay");
  assert.equal(during!.errorRate, 0, "a delay is not an error");

  // Error with preventExecution: (nearly) every invocation fails, and the handler writes nothing to DynamoDB.
  assert.ok(phase(error, "during").errorRate! >= 0.75, why(`error rate ${phase(error, "during").errorRate}`));
  assert.ok(error.caller.effect.requests > 0);
  assert.equal(
    error.caller.effect.errors,
    error.caller.effect.requests,
    "every request after the effect failed",
  );
  assert.ok(error.writes.pre > 0, "the handler writes orders before the experiment");
  assert.equal(error.writes.afterEffect, 0, "no order written once the fault took effect (preventExecution)");
  assert.ok(error.writes.post > 0, "writes resume after the experiment");

  // Time to effect: within the extension's poll intervals (slow 2 s, hot 1 s) plus a second of resolution.
  // Time to recover: inside the post window.
  for (const s of [delay, error]) {
    assert.ok(
      s.report.timeToEffectMs !== undefined &&
        s.report.timeToEffectMs >= 0 &&
        s.report.timeToEffectMs <= 4000,
      why(`${s.kind}: time to effect ${s.report.timeToEffectMs}`),
    );
    assert.ok(
      s.report.timeToRecoverMs !== undefined &&
        s.report.timeToRecoverMs >= 0 &&
        s.report.timeToRecoverMs <= POST * 1000,
      why(`${s.kind}: time to recover ${s.report.timeToRecoverMs} (${s.report.recoveryNote})`),
    );
  }
});
