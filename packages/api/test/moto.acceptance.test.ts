/**
 * Acceptance beyond the lab: the engine behind the FIS API against moto_server, a second, independent AWS
 * implementation (Lambda control plane, tag:GetResources, S3, CloudWatch alarms). moto runs no functions, so the
 * assertions are on the fault objects: written for the ready targets, removed at the end and on a stop condition.
 * Every AWS call the engine sends is recorded (SDK middleware) and must be one its IAM policy allows.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  CreateExperimentTemplateCommand,
  FisClient,
  ListExperimentResolvedTargetsCommand,
  StartExperimentCommand,
} from "@aws-sdk/client-fis";
import { ResourceGroupsTaggingAPIClient } from "@aws-sdk/client-resource-groups-tagging-api";
import { ENGINE_CALLS, Engine, enginePolicy } from "@faultline/engine";
import { Moto, readyEnv } from "../../engine/test/moto.ts";
import { seedTemplate } from "../../engine/test/seed.ts";
import { type RunningApi, startApi } from "../src/index.ts";

const ACCOUNT = "arn:aws:lambda:us-east-1:123456789012";

describe("engine + API on moto_server (functions, tags, S3, alarms)", () => {
  const dir = mkdtempSync(join(tmpdir(), "faultline-engine-moto-"));
  let moto: Moto;
  let engine: Engine;
  let api: RunningApi;
  let fis: FisClient;
  let alarm: Awaited<ReturnType<Moto["alarm"]>>;
  /** `Client/Command` of every call the engine sent. */
  const sent = new Set<string>();

  before(async () => {
    moto = await Moto.start();
    await moto.bucket("faults");
    await moto.bucket("fislogs");
    const layer = await moto.layer();
    for (const name of ["a1", "a2"]) {
      await moto.fn(name, { tags: { FISExperimentReady: "Yes" }, layer, env: readyEnv("faults") });
    }
    await moto.fn("unready", { tags: { FISExperimentReady: "Yes" } });
    await moto.fn("single", { layer, env: readyEnv("faults", "Other/") });
    alarm = await moto.alarm("guard", "OK");
    const record = <C extends { middlewareStack: { add: (...a: never[]) => unknown } }>(client: C): C => {
      (client.middlewareStack as { add: (mw: unknown, opts: unknown) => void }).add(
        (next: (a: unknown) => unknown, context: { clientName: string; commandName: string }) =>
          (args: unknown) => {
            sent.add(`${context.clientName}/${context.commandName.replace(/Command$/, "")}`);
            return next(args);
          },
        { step: "initialize", name: "recordEngineCalls" },
      );
      return client;
    };
    engine = await Engine.open({
      dataDir: join(dir, "data"),
      lambda: record(moto.lambda()),
      s3: record(moto.s3()),
      cloudwatch: record(moto.cloudwatch()),
      tagging: record(
        new ResourceGroupsTaggingAPIClient({
          region: "us-east-1",
          endpoint: moto.endpoint,
          credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
        }),
      ),
      stopConditionPollMs: 100,
      log: () => {},
    });
    api = await startApi(engine);
    fis = new FisClient({
      region: "us-east-1",
      endpoint: api.url,
      credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
      maxAttempts: 1,
    });
  });
  after(async () => {
    fis?.destroy();
    await api?.close();
    await engine?.close();
    await moto?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const start = async (template: Record<string, unknown>) => {
    const t = await fis.send(new CreateExperimentTemplateCommand(template as never));
    const x = await fis.send(new StartExperimentCommand({ experimentTemplateId: t.experimentTemplate!.id }));
    return x.experiment!.id!;
  };

  test("tag target: objects for the ready functions only; an ALARM halts the experiment and removes them", async () => {
    const tpl = seedTemplate();
    tpl.stopConditions = [{ source: "aws:cloudwatch:alarm", value: alarm.arn }];
    tpl.logConfiguration = { s3Configuration: { bucketName: "fislogs", prefix: "fis" }, logSchemaVersion: 2 };
    const id = await start(tpl);
    await engine.idle(id);
    assert.deepEqual(await moto.keys("faults"), [
      `FisConfigs/a1/${id}/lat.json`,
      `FisConfigs/a2/${id}/lat.json`,
    ]);
    const resolved = await fis.send(new ListExperimentResolvedTargetsCommand({ experimentId: id }));
    const ready = Object.fromEntries(
      (resolved.resolvedTargets ?? []).map((r) => [
        r.targetInformation!.functionName,
        r.targetInformation!.ready,
      ]),
    );
    assert.deepEqual(ready, { a1: "true", a2: "true", unready: "false" });
    await alarm.set("ALARM");
    const done = await engine.settled(id);
    await alarm.set("OK");
    assert.equal(done.state.status, "stopped");
    assert.match(done.state.reason ?? "", /^Experiment halted by stop condition/);
    assert.deepEqual(await moto.keys("faults"), []);
    assert.equal((await moto.keys("fislogs")).length, 1, "the experiment log was delivered");
  });

  test("ARN target: the object goes to the function's own location and is removed when the action ends", async () => {
    const tpl = seedTemplate();
    tpl.targets.fns = {
      resourceType: "aws:lambda:function",
      resourceArns: [`${ACCOUNT}:function:single`],
      selectionMode: "ALL",
    };
    tpl.actions.lat.parameters.duration = "PT1S";
    const id = await start(tpl);
    await engine.idle(id);
    assert.deepEqual(await moto.keys("faults"), [`Other/single/${id}/lat.json`]);
    assert.equal((await engine.settled(id)).state.status, "completed");
    assert.deepEqual(await moto.keys("faults"), []);
  });

  test("every call the engine sent is one its IAM policy (faultline iam-policy engine) allows", () => {
    const service: Record<string, string> = {
      LambdaClient: "lambda",
      S3Client: "s3",
      CloudWatchClient: "cloudwatch",
      ResourceGroupsTaggingAPIClient: "tag",
    };
    const policy = enginePolicy({ bucket: "faults", prefix: "FisConfigs/", logBucket: "fislogs" });
    const allowed = new Set(policy.Statement.flatMap((s) => [s.Action].flat()));
    for (const call of sent) {
      const [client, command] = call.split("/") as [string, string];
      const row = ENGINE_CALLS.find(
        (c) => c.command === command && c.action.startsWith(`${service[client]}:`),
      );
      assert.ok(row, `${call} is not listed in ENGINE_CALLS (packages/rules/src/iam.ts)`);
      assert.ok(allowed.has(row.action), `${row.action} (for ${call}) is missing from the engine policy`);
    }
    // The run exercised resolution by tag and ARN, the layer check, writes, deletes and alarms.
    for (const expected of [
      "GetResources",
      "ListFunctions",
      "GetFunction",
      "GetLayerVersionByArn",
      "PutObject",
      "DeleteObject",
      "DescribeAlarms",
    ]) {
      assert.ok(
        [...sent].some((c) => c.endsWith(`/${expected}`)),
        `${expected} was not sent`,
      );
    }
  });
});
