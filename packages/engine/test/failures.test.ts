/**
 * Failed experiments carry `state.error` {code, location} as FIS does (codes from the FIS troubleshooting
 * guide), reasons fit the model's 512 characters, and faultline: actions are refused at target resolution when a
 * target runs AWS's FIS extension.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { GetObjectCommand } from "@aws-sdk/client-s3";
import { parseFaultConfig } from "@faultline/protocol";
import { faultlineActionOnAwsExtension } from "../src/extension-support.ts";
import { awsFailure, experimentState, fitReason } from "../src/failures.ts";
import { Engine, ManualClock, type ResolvedFunction } from "../src/index.ts";
import { Moto, readyEnv } from "./moto.ts";
import { seedTemplate } from "./seed.ts";

const fn = (name: string, expects?: "faultline" | "aws-fis"): ResolvedFunction => ({
  arn: `arn:aws:lambda:us-east-1:123456789012:function:${name}`,
  name,
  readiness: { ready: true, problems: [] },
  ...(expects ? { expects } : {}),
});
const slow = {
  actionId: "faultline:lambda:response-delay",
  parameters: { duration: "PT1M", delayMilliseconds: "300" },
  targets: { Functions: "fns" },
};

describe("faultline: actions on AWS's FIS extension (pure)", () => {
  test("refused, naming the action, the functions and what to do", () => {
    const found = faultlineActionOnAwsExtension(
      { lat: seedTemplate().actions.lat, slow },
      new Map([["fns", [fn("orders", "faultline"), fn("legacy", "aws-fis")]]]),
    );
    assert.deepEqual(found?.error, { code: "ConfigurationFailure", location: "actions.slow" });
    assert.match(
      found!.reason,
      /^Action slow \(faultline:lambda:response-delay\) needs faultline's extension, but legacy in target fns runs AWS's FIS extension/,
    );
  });
  test("a function with AWS's layer and no known wrapper counts as AWS's", () => {
    const layered = {
      ...fn("legacy"),
      layerArns: ["arn:aws:lambda:us-east-1:211125607513:layer:aws-fis-extension-x86_64:9"],
    };
    assert.ok(faultlineActionOnAwsExtension({ slow }, new Map([["fns", [layered]]])));
  });
  test("aws: actions on AWS's extension and faultline: actions on faultline's pass", () => {
    const lat = seedTemplate().actions.lat;
    assert.equal(
      faultlineActionOnAwsExtension({ lat }, new Map([["fns", [fn("legacy", "aws-fis")]]])),
      undefined,
    );
    assert.equal(
      faultlineActionOnAwsExtension({ slow }, new Map([["fns", [fn("orders", "faultline")]]])),
      undefined,
    );
  });
});

describe("failure reasons and codes (pure)", () => {
  test("reasons are cut to the model's 512 characters", () => {
    assert.equal(fitReason("x".repeat(600)).length, 512);
    assert.equal(fitReason("short"), "short");
    assert.equal(experimentState("failed", "y".repeat(1000)).reason.length, 512);
  });
  test("a failed state always has an error; others never", () => {
    assert.deepEqual(experimentState("failed", "r").error, { code: "InternalFailure" });
    assert.equal(experimentState("stopped", "r", { code: "InternalFailure" }).error, undefined);
  });
  test("AWS errors map to FIS's codes", () => {
    const err = (name: string, status: number) =>
      Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
    assert.deepEqual(awsFailure(err("AccessDeniedException", 403), "targets.fns"), {
      code: "AuthorizationFailure",
      location: "targets.fns",
    });
    assert.equal(awsFailure(err("ResourceNotFoundException", 404), "targets.fns").code, "InvalidTarget");
    assert.equal(awsFailure(new Error("alarm not found: x"), "stopConditions").code, "ConfigurationFailure");
    assert.equal(awsFailure(err("ServiceException", 500), "actions.lat").code, "DependentServiceFailure");
  });
});

describe("state.error on failed experiments (moto)", () => {
  let moto: Moto;
  let dir: string;
  let engine: Engine;
  before(async () => {
    moto = await Moto.start();
    dir = mkdtempSync(join(tmpdir(), "faultline-failures-"));
    await moto.bucket("faults");
    const layer = await moto.layer();
    await moto.fn("fl", { tags: { kind: "faultline" }, layer, env: readyEnv("faults") });
    await moto.fn("aws", {
      tags: { kind: "aws" },
      env: { ...readyEnv("faults"), AWS_LAMBDA_EXEC_WRAPPER: "/opt/aws-fis/bootstrap" },
    });
    await moto.fn("bare", { tags: { kind: "bare" } });
    engine = await Engine.open({
      dataDir: dir,
      lambda: moto.lambda(),
      s3: moto.s3(),
      clock: new ManualClock(),
      log: () => {},
    });
  });
  after(async () => {
    await engine?.close();
    await moto?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  const run = async (kind: string, actions: Record<string, unknown>) => {
    const tpl = seedTemplate();
    tpl.targets.fns = { resourceType: "aws:lambda:function", resourceTags: { kind }, selectionMode: "ALL" };
    tpl.actions = actions;
    const t = await engine.createExperimentTemplate(tpl);
    return engine.startExperiment({ experimentTemplateId: t.id });
  };

  test("a faultline: action on a function running AWS's extension fails at target resolution, nothing written", async () => {
    const x = await run("aws", { slow });
    const done = await engine.settled(x.id);
    assert.equal(done.state.status, "failed");
    assert.deepEqual(done.state.error, { code: "ConfigurationFailure", location: "actions.slow" });
    assert.match(
      done.state.reason,
      /needs faultline's extension, but aws in target fns runs AWS's FIS extension/,
    );
    assert.equal(done.actions.slow!.state.status, "cancelled");
    assert.deepEqual(await moto.keys("faults"), []);
  });
  test("the same action on faultline's extension writes the table-derived fault object", async () => {
    const x = await run("faultline", { slow });
    await engine.idle(x.id);
    const [key] = await moto.keys("faults");
    const obj = await moto.s3().send(new GetObjectCommand({ Bucket: "faults", Key: key }));
    const fault = parseFaultConfig(await obj.Body!.transformToString());
    assert.equal(fault.actionId, "faultline:lambda:response-delay");
    assert.deepEqual(fault.parameters, { delayMilliseconds: 300, invocationPercentage: 100 });
    engine.stopExperiment(x.id);
    assert.equal((await engine.settled(x.id)).state.error, undefined);
  });
  test("an empty target is InvalidTarget at the target", async () => {
    const done = await engine.settled((await run("nobody", { lat: seedTemplate().actions.lat })).id);
    assert.deepEqual(done.state.error, { code: "InvalidTarget", location: "targets.fns" });
  });
  test("a target without the extension is a ConfigurationFailure at the action", async () => {
    const done = await engine.settled((await run("bare", { lat: seedTemplate().actions.lat })).id);
    assert.deepEqual(done.state.error, { code: "ConfigurationFailure", location: "actions.lat" });
    assert.match(done.state.reason, /^Action lat failed: Targets are not ready for faultline/);
  });
});
