/**
 * `faultline scenarios list|show|create` as a user runs them: every scenario's template passes the engine's
 * validation through the FIS API, parameter errors name the parameter and the rule, and one scenario
 * (dependency outage on one tier) runs end to end on the lab with the built layer.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { type Faultline, serveFaultline } from "@faultline/api";
import type { FaultObjectEvent } from "@faultline/engine";
import { type Lab, S3_CREDENTIALS, startLab } from "@faultline/lab";
import { SCENARIOS } from "@faultline/protocol/scenarios";
import { testLayer } from "../../extension/test/helpers/layer.ts";
import { runCli, runCliArgs } from "./run-cli.ts";

const CODE = fileURLToPath(new URL("../../api/test/fixtures/fn/", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "faultline-cli-scenarios-"));
let lab: Lab;
let f: Faultline;
let lambda: LambdaClient;

before(async () => {
  const layer = await testLayer(join(dir, "faultline-layer.zip"));
  const fn = (name: string, tier: string) => ({
    name,
    runtime: "nodejs20.x" as const,
    handler: "index.handler",
    code: CODE,
    layers: [layer.zipPath],
    timeout: 10,
    tags: { FISExperimentReady: "Yes", tier },
    environment: {
      AWS_LAMBDA_EXEC_WRAPPER: "/opt/faultline/bootstrap",
      AWS_FIS_CONFIGURATION_LOCATION: "arn:aws:s3:::faults/FisConfigs/",
      AWS_FIS_SLOW_POLL_INTERVAL_SECONDS: "1",
      FAULTLINE_HOT_POLL_INTERVAL_SECONDS: "1",
    },
  });
  lab = await startLab({ buckets: ["faults"], functions: [fn("web", "front"), fn("payments", "payments")] });
  f = await serveFaultline({
    dataDir: join(dir, "data"),
    endpoints: { lambda: lab.endpoints.lambda, s3: lab.endpoints.s3, tagging: lab.endpoints.lambda },
    credentials: S3_CREDENTIALS,
    region: "us-east-1",
    log: () => {},
  });
  lambda = new LambdaClient({
    endpoint: lab.endpoints.lambda,
    region: "us-east-1",
    credentials: S3_CREDENTIALS,
    maxAttempts: 1,
  });
});
after(async () => {
  lambda?.destroy();
  await f?.close();
  await lab?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const cli = (...args: string[]) => runCli(f.url, ...args);

/**
 * The template runs: started, its first action writes a fault object for a tagged function (the engine's own
 * event, so no polling), then it is stopped and its faults removed. Through the engine: the CLI's start is
 * covered by the end-to-end test below, and each extra CLI process costs seconds on a loaded machine.
 */
async function startsInjecting(templateId: string, scenario: string): Promise<void> {
  const writes: FaultObjectEvent[] = [];
  const record = (e: FaultObjectEvent) => {
    if (e.change === "written") writes.push(e);
  };
  f.engine.events.on("fault-object", record);
  try {
    const { id } = await f.engine.startExperiment({ experimentTemplateId: templateId });
    const ended = f.engine.settled(id);
    const written = new Promise<FaultObjectEvent>((resolve) => {
      const check = () => {
        const first = writes.find((e) => e.experimentId === id);
        if (!first) return;
        f.engine.events.off("fault-object", check);
        resolve(first);
      };
      f.engine.events.on("fault-object", check);
      check();
    });
    const first = await Promise.race([written, ended]);
    assert.ok("key" in first, `${scenario}: ended ${JSON.stringify((first as { state?: unknown }).state)}`);
    assert.match(first.key, /^FisConfigs\//, scenario);
    f.engine.stopExperiment(id);
    assert.equal((await ended).state.status, "stopped", scenario);
  } finally {
    f.engine.events.off("fault-object", record);
  }
}

describe("faultline scenarios", () => {
  test("list names every scenario; show describes it and prints its template", async () => {
    const list = await runCliArgs("scenarios", "list");
    assert.equal(list.code, 0, list.stderr);
    for (const s of SCENARIOS) assert.match(list.stdout, new RegExp(`^${s.name}\\s`, "m"));
    const show = await runCliArgs(
      "scenarios",
      "show",
      "partial-slowdown",
      "--param",
      "functionPercentage=30",
    );
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /What it tells you: /);
    assert.match(show.stdout, /delayMilliseconds\s+.*0-900000, default 1000/);
    const only = await runCliArgs(
      "scenarios",
      "show",
      "partial-slowdown",
      "--template-only",
      "-p",
      "functionPercentage=30",
    );
    assert.equal(JSON.parse(only.stdout).targets.Functions.selectionMode, "PERCENT(30)");
  });

  test("every scenario's template, defaults and edited, passes the engine's validation and starts injecting", {
    timeout: 90_000,
  }, async () => {
    for (const s of SCENARIOS) {
      const created = await cli("scenarios", "create", s.name, "--json");
      assert.equal(created.code, 0, `${s.name}: ${created.stderr}`);
      const template = JSON.parse(created.stdout);
      assert.deepEqual(Object.keys(template.actions), Object.keys(s.build().actions), s.name);
      assert.equal(template.tags.scenario, s.name);
      await startsInjecting(template.id, s.name);
    }
    const brownout = await cli(
      "scenarios",
      "create",
      "brownout",
      "--json",
      "-p",
      "errorPercentages=2,10,30,60",
      "-p",
      "stageSeconds=45",
      "--role-arn",
      "arn:aws:iam::111122223333:role/fis",
    );
    assert.equal(brownout.code, 0, brownout.stderr);
    const t = JSON.parse(brownout.stdout);
    assert.deepEqual(
      Object.values(t.actions).map(
        (a) => (a as { parameters: Record<string, string> }).parameters.invocationPercentage,
      ),
      ["2", "10", "30", "60"],
    );
    assert.deepEqual(t.actions.stage4.startAfter, ["stage3"]);
    assert.equal(t.actions.stage4.parameters.duration, "PT45S");
    assert.equal(t.roleArn, "arn:aws:iam::111122223333:role/fis");
  });

  test("bad parameters name the parameter and the rule, exit 2, create nothing", async () => {
    const cases: [string[], RegExp][] = [
      [
        ["partial-slowdown", "-p", "delayMilliseconds=900001"],
        /delayMilliseconds: must be a whole number from 0 to 900000, got "900001"/,
      ],
      [
        ["slow-cold-starts", "-p", "delayMilliseconds=12000"],
        /delayMilliseconds: must be a whole number from 0 to 10000/,
      ],
      [
        ["brownout", "-p", "errorPercentages=1,0,5"],
        /errorPercentages: must be a comma-separated list of whole percentages from 1 to 100, got "0"/,
      ],
      [
        ["brownout", "-p", "stageSeconds=20000"],
        /stageSeconds: 3 stages of 20000 s exceed FIS's 12-hour experiment limit/,
      ],
      [["dependency-outage", "-p", "statusCode=404"], /statusCode: must be a whole number from 500 to 599/],
      [
        ["dependency-outage", "-p", "tier=payments"],
        /tier: is not a parameter of this scenario \(it takes statusCode, /,
      ],
      [["dependency-outage", "-p", "statusCode"], /--param "statusCode": expected key=value/],
      [
        ["brownout", "-p", "errorPercentages=2", "-p", "errorPercentages=10"],
        /--param errorPercentages: given twice \(a list is one value: errorPercentages=1,5,25\)/,
      ],
      [["az-outage"], /scenario: "az-outage" is not a scenario \(there are partial-slowdown, /],
    ];
    for (const [args, message] of cases) {
      const out = await cli("scenarios", "create", ...args);
      assert.equal(out.code, 2, `${args.join(" ")}: ${out.stderr}`);
      assert.match(out.stderr, message);
    }
    const listed = await cli("templates", "list", "--json");
    assert.ok(
      JSON.parse(listed.stdout).every(
        (t: { tags?: Record<string, string> }) => t.tags?.scenario !== "az-outage",
      ),
    );
  });

  test("dependency-outage on one tier, end to end on the lab: that tier answers 503, the other runs", {
    timeout: 60_000,
  }, async () => {
    const invoke = async (name: string) => {
      const out = await lambda.send(
        new InvokeCommand({ FunctionName: name, Payload: JSON.stringify({ n: 1 }) }),
      );
      return JSON.parse(new TextDecoder().decode(out.Payload));
    };
    assert.deepEqual(await invoke("payments"), { ok: true, n: 1 });
    const id = (
      await cli(
        "scenarios",
        "create",
        "dependency-outage",
        "-p",
        "tagKey=tier",
        "-p",
        "tagValue=payments",
        "-p",
        "durationSeconds=60",
      )
    ).stdout.trim();
    assert.match(id, /^EXT/);
    const started = await cli("experiments", "start", id, "--json");
    assert.equal(started.code, 0, started.stderr);
    const experimentId = JSON.parse(started.stdout).id;
    try {
      // The extension reads fault objects every second: wait for the first faulted answer, bounded.
      const deadline = Date.now() + 20_000;
      let answer = await invoke("payments");
      while (answer.statusCode !== 503 && Date.now() < deadline) answer = await invoke("payments");
      assert.equal(answer.statusCode, 503, JSON.stringify(answer));
      assert.deepEqual(await invoke("web"), { ok: true, n: 1 }, "the other tier is not targeted");
    } finally {
      await cli("experiments", "stop", experimentId);
    }
  });
});
