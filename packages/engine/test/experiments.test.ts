import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { GetObjectCommand } from "@aws-sdk/client-s3";
import { parseFaultConfig } from "@faultline/protocol";
import { Engine, type ExperimentStateChangeEvent, ManualClock } from "../src/index.ts";
import { Moto, readyEnv } from "./moto.ts";
import { seedTemplate } from "./seed.ts";

let moto: Moto;
let dir: string;
const BUCKET = "faults";

before(async () => {
  moto = await Moto.start();
  dir = mkdtempSync(join(tmpdir(), "faultline-engine-"));
  await moto.bucket(BUCKET);
  await moto.bucket("fislogs");
  const layer = await moto.layer();
  for (let i = 1; i <= 4; i++) {
    await moto.fn(`f${i}`, { tags: { FISExperimentReady: "Yes" }, layer, env: readyEnv(BUCKET) });
  }
  await moto.fn("py", { tags: { group: "py" }, layer, env: readyEnv(BUCKET), runtime: "python3.12" });
  await moto.fn("bare", { tags: { group: "bare" } });
  await moto.fn("other", { tags: { FISExperimentReady: "No" }, layer, env: readyEnv(BUCKET) });
});
after(async () => {
  await moto?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

let n = 0;
async function engine(clock = new ManualClock()) {
  const e = await Engine.open({
    dataDir: join(dir, `e${n++}`),
    lambda: moto.lambda(),
    s3: moto.s3(),
    cloudwatch: moto.cloudwatch(),
    clock,
    stopConditionPollMs: 1000,
    log: () => {},
  });
  return { e, clock };
}

const tagged = (tags: Record<string, string>, selectionMode = "ALL") => ({
  resourceType: "aws:lambda:function",
  resourceTags: tags,
  selectionMode,
});

describe("experiments against moto (Lambda, S3, CloudWatch)", () => {
  test("seed template: fault objects with exact times while running, gone when complete", async () => {
    const { e, clock } = await engine();
    const t = await e.createExperimentTemplate({
      ...seedTemplate(),
      logConfiguration: { s3Configuration: { bucketName: "fislogs", prefix: "fis" }, logSchemaVersion: 2 },
    });
    const events: ExperimentStateChangeEvent[] = [];
    e.events.on("experiment", (ev) => events.push(ev));
    const started = await e.startExperiment({ clientToken: "c1", experimentTemplateId: t.id });
    assert.equal(started.state.status, "pending");
    await e.idle(started.id);
    const running = e.getExperiment(started.id);
    assert.equal(running.state.status, "running");
    assert.equal(running.actions.lat!.state.status, "running");
    const keys = await moto.keys(BUCKET);
    assert.deepEqual(
      keys,
      [1, 2, 3, 4].map((i) => `FisConfigs/f${i}/${started.id}/lat.json`),
    );
    const obj = await moto.s3().send(new GetObjectCommand({ Bucket: BUCKET, Key: keys[0] }));
    const fault = parseFaultConfig(await obj.Body!.transformToString());
    assert.equal(fault.actionId, "aws:lambda:invocation-add-delay");
    assert.deepEqual(fault.parameters, { startupDelayMilliseconds: 2000, invocationPercentage: 100 });
    assert.equal(fault.startMs, clock.now());
    assert.equal(fault.endMs - fault.startMs, 10 * 60_000);
    clock.advance(10 * 60_000 - 1);
    await e.idle(started.id);
    assert.equal(e.getExperiment(started.id).state.status, "running");
    clock.advance(1);
    const done = await e.settled(started.id);
    assert.deepEqual(done.state, { status: "completed", reason: "Experiment completed." });
    assert.deepEqual(done.actions.lat!.state, { status: "completed", reason: "Action was completed." });
    assert.deepEqual(await moto.keys(BUCKET), []);
    assert.deepEqual(e.recordedFaultObjects(), []);
    assert.deepEqual(
      events.map((ev) => [ev.detail["old-state"].status, ev.detail["new-state"].status]),
      [
        ["pending", "initiating"],
        ["initiating", "running"],
        ["running", "completed"],
      ],
    );
    assert.equal(events[0]!["detail-type"], "FIS Experiment State Change");
    assert.deepEqual(events[0]!.resources, [started.arn]);
    const types = readFileSync(e.logPath(started.id)!, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l).log_type);
    assert.deepEqual(types.slice(0, 2), ["experiment-start", "target-resolution-start"]);
    assert.ok(types.includes("action-start") && types.includes("action-end"));
    assert.equal(types.at(-1), "experiment-end");
    // The same records delivered to the template's S3 log destination, in FIS's key layout.
    const [logKey] = await moto.keys("fislogs");
    assert.match(
      logKey!,
      new RegExp(
        `^fis/AWSLogs/123456789012/fis/us-east-1/${started.id}/\\d{4}/\\d{2}/\\d{2}/123456789012_awsfislogs_us-east-1_${started.id}_\\d{12}Z_\\w+\\.log$`,
      ),
    );
    const delivered = await moto.s3().send(new GetObjectCommand({ Bucket: "fislogs", Key: logKey }));
    const lines = (await delivered.Body!.transformToString()).trim().split("\n");
    assert.deepEqual(
      lines.map((l) => JSON.parse(l).log_type),
      types,
    );
    assert.equal(JSON.parse(lines[0]!).version, "2");
    // clientToken replay returns the same experiment.
    assert.equal((await e.startExperiment({ clientToken: "c1", experimentTemplateId: t.id })).id, started.id);
    await e.close();
  });

  test("startAfter orders actions; aws:fis:wait holds the next one back", async () => {
    const { e, clock } = await engine();
    const tpl = seedTemplate();
    tpl.targets.fns.resourceTags = { group: "py" };
    tpl.actions = {
      delay: {
        actionId: "aws:lambda:invocation-add-delay",
        parameters: { duration: "PT1M" },
        targets: { Functions: "fns" },
      },
      // FIS's shortest wait is one minute.
      pause: { actionId: "aws:fis:wait", parameters: { duration: "PT1M" }, startAfter: ["delay"] },
      error: {
        actionId: "aws:lambda:invocation-error",
        parameters: { duration: "PT1M", preventExecution: "true" },
        targets: { Functions: "fns" },
        startAfter: ["pause"],
      },
    };
    const t = await e.createExperimentTemplate(tpl);
    const x = await e.startExperiment({ experimentTemplateId: t.id });
    await e.idle(x.id);
    assert.deepEqual(await moto.keys(BUCKET), [`FisConfigs/py/${x.id}/delay.json`]);
    assert.equal(e.getExperiment(x.id).actions.error!.state.status, "pending");
    clock.advance(60_000);
    await e.idle(x.id);
    assert.deepEqual(await moto.keys(BUCKET), []);
    assert.equal(e.getExperiment(x.id).actions.pause!.state.status, "running");
    clock.advance(60_000);
    await e.idle(x.id);
    assert.deepEqual(await moto.keys(BUCKET), [`FisConfigs/py/${x.id}/error.json`]);
    clock.advance(60_000);
    const done = await e.settled(x.id);
    assert.equal(done.state.status, "completed");
    const a = done.actions;
    assert.ok(a.delay!.endTime! <= a.pause!.startTime! && a.pause!.endTime! <= a.error!.startTime!);
    await e.close();
  });

  test("functionQualifier travels into the fault object", async () => {
    const { e, clock } = await engine();
    const tpl = seedTemplate();
    tpl.targets.fns = { ...tagged({ group: "py" }), parameters: { functionQualifier: "live" } };
    tpl.actions.lat.parameters.duration = "PT1S";
    const x = await e.startExperiment({ experimentTemplateId: (await e.createExperimentTemplate(tpl)).id });
    await e.idle(x.id);
    const obj = await moto
      .s3()
      .send(new GetObjectCommand({ Bucket: BUCKET, Key: `FisConfigs/py/${x.id}/lat.json` }));
    assert.equal(parseFaultConfig(await obj.Body!.transformToString()).qualifier, "live");
    assert.equal(
      e.listExperimentResolvedTargets(x.id).resolvedTargets[0]!.targetInformation.qualifier,
      "live",
    );
    clock.advance(1000);
    assert.equal((await e.settled(x.id)).state.status, "completed");
    await e.close();
  });

  test("COUNT, PERCENT and filters select the documented number of functions", async () => {
    const { e } = await engine();
    const resolved = async (target: object) => {
      const tpl = seedTemplate();
      tpl.targets.fns = target;
      const t = await e.createExperimentTemplate(tpl);
      const x = await e.startExperiment({
        experimentTemplateId: t.id,
        experimentOptions: { actionsMode: "skip-all" },
      });
      await e.settled(x.id);
      return e
        .listExperimentResolvedTargets(x.id)
        .resolvedTargets.map((r) => r.targetInformation.functionName!);
    };
    assert.equal((await resolved(tagged({ FISExperimentReady: "Yes" }, "COUNT(2)"))).length, 2);
    assert.equal((await resolved(tagged({ FISExperimentReady: "Yes" }, "PERCENT(50)"))).length, 2);
    assert.equal((await resolved(tagged({ FISExperimentReady: "Yes" }, "PERCENT(10)"))).length, 1);
    assert.deepEqual(
      await resolved({
        resourceType: "aws:lambda:function",
        filters: [{ path: "Runtime", values: ["python3.12", "ruby3.3"] }],
        selectionMode: "ALL",
      }),
      ["py"],
    );
    await e.close();
  });

  test("preview (skip-all) resolves and reports readiness but writes nothing", async () => {
    const { e } = await engine();
    const tpl = seedTemplate();
    tpl.targets.fns = tagged({ group: "bare" });
    const t = await e.createExperimentTemplate(tpl);
    const x = await e.startExperiment({
      experimentTemplateId: t.id,
      experimentOptions: { actionsMode: "skip-all" },
    });
    const done = await e.settled(x.id);
    assert.equal(done.state.status, "completed");
    assert.equal(done.actions.lat!.state.status, "skipped");
    assert.deepEqual(await moto.keys(BUCKET), []);
    const [info] = e.listExperimentResolvedTargets(x.id).resolvedTargets;
    assert.equal(info!.targetInformation.ready, "false");
    assert.match(info!.targetInformation.problems!, /no faultline layer/);
    assert.match(info!.targetInformation.problems!, /AWS_LAMBDA_EXEC_WRAPPER/);
    assert.match(info!.targetInformation.problems!, /no AWS_FIS_CONFIGURATION_LOCATION/);
    await e.close();
  });

  test("a target without the extension configured fails the action and says why", async () => {
    const { e } = await engine();
    const tpl = seedTemplate();
    tpl.targets.fns = tagged({ group: "bare" });
    const t = await e.createExperimentTemplate(tpl);
    const x = await e.startExperiment({ experimentTemplateId: t.id });
    const done = await e.settled(x.id);
    assert.equal(done.state.status, "failed");
    assert.equal(done.actions.lat!.state.status, "failed");
    assert.match(done.actions.lat!.state.reason, /function bare has no AWS_FIS_CONFIGURATION_LOCATION/);
    await e.close();
  });

  // FIS writes a fault object for every target and stays silent; faultline injects into the ready ones and
  // names the others (docs/engine.md "Readiness"), or fails the action when told to require every target.
  test("a target that is not ready is left out, named in the reason, log and resolved targets", async () => {
    const arn = (name: string) => `arn:aws:lambda:us-east-1:123456789012:function:${name}`;
    const tpl = seedTemplate();
    tpl.targets.fns = {
      resourceType: "aws:lambda:function",
      resourceArns: [arn("f1"), arn("bare")],
      selectionMode: "ALL",
    };
    tpl.actions.lat.parameters.duration = "PT1S";
    const { e, clock } = await engine();
    const x = await e.startExperiment({ experimentTemplateId: (await e.createExperimentTemplate(tpl)).id });
    await e.idle(x.id);
    assert.deepEqual(await moto.keys(BUCKET), [`FisConfigs/f1/${x.id}/lat.json`]);
    const running = e.getExperiment(x.id).actions.lat!.state;
    assert.equal(running.status, "running");
    assert.match(running.reason, /not ready, left out: function bare does not set AWS_LAMBDA_EXEC_WRAPPER/);
    const start = readFileSync(e.logPath(x.id)!, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l))
      .find((r) => r.log_type === "action-start");
    assert.deepEqual(start.details.not_ready_targets, [arn("bare")]);
    const ready = Object.fromEntries(
      e
        .listExperimentResolvedTargets(x.id)
        .resolvedTargets.map((t) => [t.targetInformation.functionName, t.targetInformation.ready]),
    );
    assert.deepEqual(ready, { f1: "true", bare: "false" });
    clock.advance(1000);
    assert.equal((await e.settled(x.id)).state.status, "completed");
    assert.deepEqual(await moto.keys(BUCKET), []);
    await e.close();

    const strict = await Engine.open({
      dataDir: join(dir, `e${n++}`),
      lambda: moto.lambda(),
      s3: moto.s3(),
      clock: new ManualClock(),
      readiness: { requireAllTargetsReady: true },
      log: () => {},
    });
    const y = await strict.startExperiment({
      experimentTemplateId: (await strict.createExperimentTemplate(tpl)).id,
    });
    const failed = await strict.settled(y.id);
    assert.equal(failed.actions.lat!.state.status, "failed");
    assert.match(failed.actions.lat!.state.reason, /not ready for faultline: function bare/);
    assert.deepEqual(await moto.keys(BUCKET), []);
    await strict.close();
  });

  test("empty target resolution: fail by default, skip when asked", async () => {
    const { e } = await engine();
    const tpl = seedTemplate();
    tpl.targets.fns = tagged({ group: "nobody" });
    const failed = await e.settled(
      (await e.startExperiment({ experimentTemplateId: (await e.createExperimentTemplate(tpl)).id })).id,
    );
    assert.equal(failed.state.status, "failed");
    assert.match(failed.state.reason, /empty set for target fns/);
    tpl.experimentOptions = { emptyTargetResolutionMode: "skip" };
    const skipped = await e.settled(
      (await e.startExperiment({ experimentTemplateId: (await e.createExperimentTemplate(tpl)).id })).id,
    );
    assert.equal(skipped.state.status, "completed", skipped.state.reason);
    assert.equal(skipped.actions.lat!.state.status, "skipped");
    await e.close();
  });

  test("StopExperiment mid-run removes every fault object", async () => {
    const { e } = await engine();
    const t = await e.createExperimentTemplate(seedTemplate());
    const x = await e.startExperiment({ experimentTemplateId: t.id });
    await e.idle(x.id);
    assert.equal((await moto.keys(BUCKET)).length, 4);
    assert.equal(e.stopExperiment(x.id).state.status, "stopping");
    const done = await e.settled(x.id);
    assert.deepEqual(done.state, { status: "stopped", reason: "Experiment stopped by user." });
    assert.equal(done.actions.lat!.state.status, "stopped");
    assert.deepEqual(await moto.keys(BUCKET), []);
    await e.close();
  });

  test("stop condition: refuses to start in ALARM; ALARM while running halts and cleans up", async () => {
    const { e, clock } = await engine();
    const { set: setState } = await moto.alarm("errors", "OK");
    const tpl = seedTemplate();
    tpl.stopConditions = [
      { source: "aws:cloudwatch:alarm", value: "arn:aws:cloudwatch:us-east-1:123456789012:alarm:errors" },
    ];
    const t = await e.createExperimentTemplate(tpl);
    await setState("ALARM");
    const refused = await e.settled((await e.startExperiment({ experimentTemplateId: t.id })).id);
    assert.equal(refused.state.status, "failed");
    assert.match(
      refused.state.reason,
      /Experiment halted by stop condition: .*alarm:errors in ALARM before start/,
    );
    assert.equal(refused.actions.lat!.state.status, "cancelled");
    await setState("OK");
    const x = await e.startExperiment({ experimentTemplateId: t.id });
    await e.idle(x.id);
    assert.equal((await moto.keys(BUCKET)).length, 4);
    clock.advance(1000);
    await e.idle(x.id);
    assert.equal(e.getExperiment(x.id).state.status, "running");
    await setState("ALARM");
    clock.advance(1000);
    const done = await e.settled(x.id);
    assert.deepEqual(done.state, { status: "stopped", reason: "Experiment halted by stop condition" });
    assert.deepEqual(await moto.keys(BUCKET), []);
    await setState("OK");
    await e.close();
  });

  test("stop condition that cannot be read is treated as pulled after 3 polls", async () => {
    const clock = new ManualClock();
    const real = moto.cloudwatch();
    let down = false;
    // A fake CloudWatch client that fails on demand (unit-level: the real one is exercised above).
    const flaky = {
      send: (command: never) =>
        down ? Promise.reject(new Error("connect ECONNREFUSED")) : real.send(command),
    } as unknown as CloudWatchClient;
    await moto.alarm("quiet", "OK");
    const e = await Engine.open({
      dataDir: join(dir, `e${n++}`),
      lambda: moto.lambda(),
      s3: moto.s3(),
      cloudwatch: flaky,
      clock,
      stopConditionPollMs: 1000,
      log: () => {},
    });
    const tpl = seedTemplate();
    tpl.stopConditions = [
      { source: "aws:cloudwatch:alarm", value: "arn:aws:cloudwatch:us-east-1:123456789012:alarm:quiet" },
    ];
    const x = await e.startExperiment({ experimentTemplateId: (await e.createExperimentTemplate(tpl)).id });
    await e.idle(x.id);
    down = true;
    for (let i = 0; i < 2; i++) {
      clock.advance(1000);
      await e.idle(x.id);
      assert.equal(e.getExperiment(x.id).state.status, "running");
    }
    clock.advance(1000);
    const done = await e.settled(x.id);
    assert.equal(done.state.status, "stopped");
    assert.match(
      done.state.reason,
      /^Experiment halted by stop condition: the alarms could not be read 3 times in a row/,
    );
    assert.deepEqual(await moto.keys(BUCKET), []);
    await e.close();
  });

  test("restart reconciles: faults removed, experiment failed with a reason", async () => {
    const dataDir = join(dir, "restart");
    const opts = { dataDir, lambda: moto.lambda(), s3: moto.s3(), clock: new ManualClock(), log: () => {} };
    const first = await Engine.open(opts);
    const t = await first.createExperimentTemplate(seedTemplate());
    const x = await first.startExperiment({ experimentTemplateId: t.id });
    await first.idle(x.id);
    assert.equal((await moto.keys(BUCKET)).length, 4);
    // The first engine is abandoned without cleanup, as if killed.
    const second = await Engine.open(opts);
    assert.deepEqual(await moto.keys(BUCKET), []);
    const after = second.getExperiment(x.id);
    assert.equal(after.state.status, "failed");
    assert.match(after.state.reason, /engine restarted/);
    assert.equal(after.actions.lat!.state.status, "failed");
    await second.close();
  });

  test("kill switch stops everything; active-experiment quota", async () => {
    const { e } = await engine();
    const t = await e.createExperimentTemplate(seedTemplate());
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push((await e.startExperiment({ experimentTemplateId: t.id })).id);
    await assert.rejects(e.startExperiment({ experimentTemplateId: t.id }), {
      name: "ServiceQuotaExceededException",
    });
    await e.idle();
    const { stopped } = await e.stopAll();
    assert.deepEqual(stopped.sort(), ids.sort());
    assert.deepEqual(await moto.keys(BUCKET), []);
    for (const id of ids) assert.equal(e.getExperiment(id).state.status, "stopped");
    await e.close();
  });
});

const slow = {
  actionId: "faultline:lambda:response-delay",
  parameters: { duration: "PT1M", delayMilliseconds: "300" },
  targets: { Functions: "fns" },
};
describe("state.error on failed experiments; faultline: actions and AWS's FIS extension", () => {
  let e: Engine;
  before(async () => {
    await moto.bucket("faults-fl");
    await moto.fn("fl", {
      tags: { kind: "faultline" },
      layer: await moto.layer(),
      env: readyEnv("faults-fl"),
    });
    await moto.fn("aws", {
      tags: { kind: "aws" },
      env: { ...readyEnv("faults-fl"), AWS_LAMBDA_EXEC_WRAPPER: "/opt/aws-fis/bootstrap" },
    });
    ({ e } = await engine());
  });
  after(async () => {
    await e?.close();
  });
  const run = async (value: string, actions: Record<string, unknown>, key = "kind") => {
    const tpl = seedTemplate();
    tpl.targets.fns = {
      resourceType: "aws:lambda:function",
      resourceTags: { [key]: value },
      selectionMode: "ALL",
    };
    tpl.actions = actions;
    const t = await e.createExperimentTemplate(tpl);
    return e.startExperiment({ experimentTemplateId: t.id });
  };

  test("a faultline: action on a function running AWS's extension fails at target resolution, nothing written", async () => {
    const x = await run("aws", { slow });
    const done = await e.settled(x.id);
    assert.equal(done.state.status, "failed");
    assert.deepEqual(done.state.error, { code: "ConfigurationFailure", location: "actions.slow" });
    assert.match(
      done.state.reason,
      /needs faultline's extension, but aws in target fns runs AWS's FIS extension/,
    );
    assert.equal(done.actions.slow!.state.status, "cancelled");
    assert.deepEqual(await moto.keys("faults-fl"), []);
  });
  test("the same action on faultline's extension writes the table-derived fault object", async () => {
    const x = await run("faultline", { slow });
    await e.idle(x.id);
    const [key] = await moto.keys("faults-fl");
    const obj = await moto.s3().send(new GetObjectCommand({ Bucket: "faults-fl", Key: key }));
    const fault = parseFaultConfig(await obj.Body!.transformToString());
    assert.equal(fault.actionId, "faultline:lambda:response-delay");
    assert.deepEqual(fault.parameters, { delayMilliseconds: 300, invocationPercentage: 100 });
    e.stopExperiment(x.id);
    assert.equal((await e.settled(x.id)).state.error, undefined);
  });
  test("an empty target is InvalidTarget at the target", async () => {
    const done = await e.settled((await run("nobody", { lat: seedTemplate().actions.lat })).id);
    assert.deepEqual(done.state.error, { code: "InvalidTarget", location: "targets.fns" });
  });
  test("a target without the extension is a ConfigurationFailure at the action", async () => {
    const done = await e.settled((await run("bare", { lat: seedTemplate().actions.lat }, "group")).id);
    assert.deepEqual(done.state.error, { code: "ConfigurationFailure", location: "actions.lat" });
    assert.match(done.state.reason, /^Action lat failed: Targets are not ready for faultline/);
  });
});
