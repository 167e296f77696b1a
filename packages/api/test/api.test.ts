import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import {
  CreateExperimentTemplateCommand,
  DeleteExperimentTemplateCommand,
  FisClient,
  GetActionCommand,
  GetExperimentCommand,
  GetExperimentTemplateCommand,
  GetTargetResourceTypeCommand,
  ListActionsCommand,
  ListExperimentResolvedTargetsCommand,
  ListExperimentsCommand,
  ListExperimentTemplatesCommand,
  ListTagsForResourceCommand,
  ListTargetResourceTypesCommand,
  ResourceNotFoundException,
  ServiceQuotaExceededException,
  StartExperimentCommand,
  StopExperimentCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateExperimentTemplateCommand,
  ValidationException,
} from "@aws-sdk/client-fis";
import { ACTIONS, Engine, ManualClock } from "@faultline/engine";
import { Moto, readyEnv } from "../../engine/test/moto.ts";
import { seedTemplate } from "../../engine/test/seed.ts";
import { awsCliV1, awsCliV2 } from "../../testing/src/index.ts";
import { createApi, type RunningApi, startApi } from "../src/index.ts";
import { AWS_CLI_ENV } from "./kit.ts";

const run = promisify(execFile);
let moto: Moto;
let dir: string;
let engine: Engine;
let clock: ManualClock;
let api: RunningApi;
let fis: FisClient;

before(async () => {
  moto = await Moto.start();
  dir = mkdtempSync(join(tmpdir(), "faultline-api-"));
  await moto.bucket("faults");
  const layer = await moto.layer();
  for (const name of ["a1", "a2", "a3"]) {
    await moto.fn(name, { tags: { FISExperimentReady: "Yes" }, layer, env: readyEnv("faults") });
  }
  clock = new ManualClock();
  engine = await Engine.open({
    dataDir: dir,
    lambda: moto.lambda(),
    s3: moto.s3(),
    cloudwatch: moto.cloudwatch(),
    clock,
    log: () => {},
  });
  api = await startApi(engine);
  fis = new FisClient({
    region: "us-east-1",
    endpoint: api.url,
    credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "secret" },
    maxAttempts: 1,
  });
});
after(async () => {
  fis?.destroy();
  await api?.close();
  await engine?.close();
  await moto?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("FIS API with @aws-sdk/client-fis 3.523.0", () => {
  test("template lifecycle, tags, catalogue", async () => {
    const created = await fis.send(new CreateExperimentTemplateCommand(seedTemplate() as never));
    const t = created.experimentTemplate!;
    assert.match(t.id!, /^EXT[A-Za-z0-9]{14}$/);
    // 3.523.0's model predates the template `arn` field; the raw response carries it (see the CLI test).
    const arn = `arn:aws:fis:us-east-1:123456789012:experiment-template/${t.id}`;
    assert.ok(t.creationTime instanceof Date && Math.abs(t.creationTime.getTime() - clock.now()) < 1000);
    assert.equal(t.actions!.lat!.parameters!.startupDelayMilliseconds, "2000");
    const got = await fis.send(new GetExperimentTemplateCommand({ id: t.id }));
    assert.equal(got.experimentTemplate!.description, "lambda latency");
    const updated = await fis.send(new UpdateExperimentTemplateCommand({ id: t.id, description: "d2" }));
    assert.equal(updated.experimentTemplate!.description, "d2");
    const list = await fis.send(new ListExperimentTemplatesCommand({ maxResults: 10 }));
    assert.ok(list.experimentTemplates!.some((s) => s.id === t.id));
    await fis.send(new TagResourceCommand({ resourceArn: arn, tags: { team: "sre", env: "lab" } }));
    await fis.send(new UntagResourceCommand({ resourceArn: arn, tagKeys: ["env", "Name"] }));
    const tags = await fis.send(new ListTagsForResourceCommand({ resourceArn: arn }));
    assert.deepEqual(tags.tags, { team: "sre" });
    const actions = await fis.send(new ListActionsCommand({}));
    // Every action of the engine's table, in its order (engine/test/fidelity.test.ts pins that order).
    assert.deepEqual(
      actions.actions!.map((a) => a.id),
      ACTIONS.map((a) => a.id),
    );
    const action = await fis.send(new GetActionCommand({ id: "aws:lambda:invocation-add-delay" }));
    assert.equal(action.action!.targets!.Functions!.resourceType, "aws:lambda:function");
    const types = await fis.send(new ListTargetResourceTypesCommand({}));
    assert.deepEqual(
      types.targetResourceTypes!.map((x) => x.resourceType),
      ["aws:lambda:function"],
    );
    const type = await fis.send(new GetTargetResourceTypeCommand({ resourceType: "aws:lambda:function" }));
    assert.ok(type.targetResourceType!.parameters!.functionQualifier);
    const deleted = await fis.send(new DeleteExperimentTemplateCommand({ id: t.id }));
    assert.equal(deleted.experimentTemplate!.id, t.id);
    await assert.rejects(fis.send(new GetExperimentTemplateCommand({ id: t.id })), ResourceNotFoundException);
  });

  test("typed errors: ValidationException names the field; quota is ServiceQuotaExceededException", async () => {
    const bad = seedTemplate();
    bad.actions.lat.actionId = "aws:ec2:stop-instances";
    await assert.rejects(fis.send(new CreateExperimentTemplateCommand(bad as never)), (e: unknown) => {
      assert.ok(e instanceof ValidationException);
      assert.match(e.message, /^actions\.lat\.actionId: "aws:ec2:stop-instances" is not supported/);
      assert.equal(e.$metadata.httpStatusCode, 400);
      return true;
    });
    const many = seedTemplate();
    for (let i = 0; i < 21; i++)
      many.actions[`w${i}`] = { actionId: "aws:fis:wait", parameters: { duration: "PT1M" } };
    await assert.rejects(
      fis.send(new CreateExperimentTemplateCommand(many as never)),
      ServiceQuotaExceededException,
    );
  });

  test("experiment: start, clientToken replay, resolved targets, stop", async () => {
    const t = (await fis.send(new CreateExperimentTemplateCommand(seedTemplate() as never)))
      .experimentTemplate!;
    const start = await fis.send(
      new StartExperimentCommand({ experimentTemplateId: t.id, clientToken: "tok-1" }),
    );
    const id = start.experiment!.id!;
    assert.match(id, /^EXP[A-Za-z0-9]{14}$/);
    const replay = await fis.send(
      new StartExperimentCommand({ experimentTemplateId: t.id, clientToken: "tok-1" }),
    );
    assert.equal(replay.experiment!.id, id);
    await engine.idle(id);
    const got = (await fis.send(new GetExperimentCommand({ id }))).experiment!;
    assert.equal(got.state!.status, "running");
    assert.equal(got.actions!.lat!.state!.status, "running");
    assert.ok(got.startTime instanceof Date);
    assert.equal((await moto.keys("faults")).length, 3);
    const targets = await fis.send(new ListExperimentResolvedTargetsCommand({ experimentId: id }));
    assert.deepEqual(targets.resolvedTargets!.map((r) => r.targetInformation!.functionName).sort(), [
      "a1",
      "a2",
      "a3",
    ]);
    const listed = await fis.send(new ListExperimentsCommand({}));
    assert.deepEqual(
      listed.experiments!.map((e) => e.id),
      [id],
    );
    const stopping = await fis.send(new StopExperimentCommand({ id }));
    assert.equal(stopping.experiment!.state!.status, "stopping");
    await engine.settled(id);
    const stopped = (await fis.send(new GetExperimentCommand({ id }))).experiment!;
    assert.equal(stopped.state!.status, "stopped");
    assert.ok(stopped.endTime instanceof Date);
    assert.deepEqual(await moto.keys("faults"), []);
  });
});

describe("FIS API guards (in-process, no port)", () => {
  const handle = () => createApi(engine, { maxBodyBytes: 4096, auth: undefined });
  const req = (method: string, url: string, headers: Record<string, string> = {}, body = "") => ({
    method,
    url,
    headers: { host: "127.0.0.1:1", ...headers },
    body: Buffer.from(body),
  });

  test("unknown operation, wrong method, bad JSON", async () => {
    const h = handle();
    const unknown = await h(req("GET", "/nope"));
    assert.equal(unknown.status, 404);
    assert.equal(unknown.headers["x-amzn-errortype"], "UnknownOperationException");
    assert.equal((await h(req("PUT", "/experiments"))).status, 405);
    const badJson = await h(req("POST", "/experimentTemplates", { "content-type": "application/json" }, "{"));
    assert.equal(badJson.status, 400);
    assert.equal(badJson.headers["x-amzn-errortype"], "ValidationException");
    assert.match(JSON.parse(String(badJson.body)).message, /not valid JSON/);
  });

  test("a browser page cannot drive it; bodies are capped; Host must be loopback", async () => {
    const h = handle();
    const fromPage = await h(req("GET", "/experiments", { origin: "http://evil.example" }));
    assert.equal(fromPage.status, 403);
    const simple = await h(req("POST", "/experiments", { "content-type": "text/plain" }, "{}"));
    assert.equal(simple.status, 415);
    const form = await h(
      req("POST", "/experiments", { "content-type": "application/x-www-form-urlencoded" }, "a=1"),
    );
    assert.equal(form.status, 415);
    const big = await h(
      req("POST", "/experimentTemplates", { "content-type": "application/json" }, "x".repeat(5000)),
    );
    assert.equal(big.status, 413);
    const rebound = await h(req("GET", "/experiments", { host: "evil.example:8080" }));
    assert.equal(rebound.status, 403);
    assert.equal((await h(req("GET", "/experiments"))).status, 200);
  });

  test("opt-in access key check", async () => {
    const h = createApi(engine, { auth: { accessKeyIds: ["AKIDGOOD"] } });
    const sig = (key: string) => ({
      authorization: `AWS4-HMAC-SHA256 Credential=${key}/20260101/us-east-1/fis/aws4_request, SignedHeaders=host, Signature=x`,
    });
    assert.equal((await h(req("GET", "/actions", sig("AKIDBAD")))).status, 403);
    assert.equal((await h(req("GET", "/actions"))).status, 403);
    assert.equal((await h(req("GET", "/actions", sig("AKIDGOOD")))).status, 200);
  });
});

describe("opt-in SigV4 verification", () => {
  test("SDK and both CLIs pass with the right secret; a wrong secret is refused", async () => {
    const secured = await startApi(engine, { auth: { credentials: { AKIDGOOD: "s3cret" } } });
    const client = (secretAccessKey: string) =>
      new FisClient({
        region: "us-east-1",
        endpoint: secured.url,
        credentials: { accessKeyId: "AKIDGOOD", secretAccessKey },
        maxAttempts: 1,
      });
    try {
      const good = client("s3cret");
      assert.ok((await good.send(new ListActionsCommand({ maxResults: 2 }))).actions!.length > 0);
      const t = await good.send(new CreateExperimentTemplateCommand(seedTemplate() as never));
      await good.send(
        new UntagResourceCommand({
          resourceArn: `arn:aws:fis:us-east-1:123456789012:experiment-template/${t.experimentTemplate!.id}`,
          tagKeys: ["a", "b c"],
        }),
      );
      good.destroy();
      const bad = client("wrong");
      await assert.rejects(
        bad.send(new ListActionsCommand({})),
        (e: Error & { $metadata: { httpStatusCode: number } }) => {
          assert.equal(e.name, "InvalidSignatureException");
          assert.equal(e.$metadata.httpStatusCode, 403);
          return true;
        },
      );
      bad.destroy();
      for (const bin of [awsCliV1.require(), awsCliV2.require()]) {
        const env = {
          ...process.env,
          AWS_ACCESS_KEY_ID: "AKIDGOOD",
          AWS_SECRET_ACCESS_KEY: "s3cret",
          AWS_DEFAULT_REGION: "us-east-1",
          AWS_CONFIG_FILE: "/dev/null",
          AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
        };
        const { stdout } = await run(
          bin,
          [
            "fis",
            "list-experiments",
            "--max-results",
            "5",
            "--endpoint-url",
            secured.url,
            "--output",
            "json",
          ],
          { env },
        );
        assert.ok(Array.isArray(JSON.parse(stdout).experiments), bin);
      }
    } finally {
      await secured.close();
    }
  });
});

describe("AWS CLI v1 and v2 (found on PATH) via --endpoint-url", () => {
  const env = AWS_CLI_ENV;
  for (const [label, bin] of [
    ["v1", awsCliV1],
    ["v2", awsCliV2],
  ] as const) {
    test(`${label}: create template, start, get, stop, typed error`, async () => {
      const cli = async (...args: string[]) => {
        const { stdout } = await run(
          bin.require(),
          ["fis", ...args, "--endpoint-url", api.url, "--output", "json"],
          {
            env,
          },
        );
        return JSON.parse(stdout);
      };
      const file = join(dir, `tpl-${label}.json`);
      writeFileSync(file, JSON.stringify(seedTemplate()));
      const t = (await cli("create-experiment-template", "--cli-input-json", `file://${file}`))
        .experimentTemplate;
      assert.match(t.id, /^EXT/);
      // CLI v2 2.9.19's model predates the template `arn` field and drops it; v1's botocore has it.
      if (label === "v1")
        assert.equal(t.arn, `arn:aws:fis:us-east-1:123456789012:experiment-template/${t.id}`);
      const x = (await cli("start-experiment", "--experiment-template-id", t.id)).experiment;
      await engine.idle(x.id);
      const got = (await cli("get-experiment", "--id", x.id)).experiment;
      assert.equal(got.state.status, "running");
      const listed = await cli("list-experiments");
      assert.ok(listed.experiments.some((e: { id: string }) => e.id === x.id));
      const stop = (await cli("stop-experiment", "--id", x.id)).experiment;
      assert.equal(stop.state.status, "stopping");
      await engine.settled(x.id);
      assert.deepEqual(await moto.keys("faults"), []);
      await assert.rejects(cli("get-experiment-template", "--id", "EXTnope"), (e: { stderr: string }) => {
        assert.match(e.stderr, /ResourceNotFoundException/);
        assert.match(e.stderr, /Experiment template EXTnope not found/);
        return true;
      });
    });
  }
});

// botocore validates only minimum lengths and types before sending: what it lets through, the engine refuses
// with FIS's typed error, and the CLI prints the message as it came.
describe("AWS CLI v1: a ValidationException message names the field and the rule", () => {
  test("aws:fis:wait shorter than FIS's one-minute minimum", async () => {
    const file = join(dir, "short-wait.json");
    const tpl = seedTemplate();
    tpl.actions.pause = { actionId: "aws:fis:wait", parameters: { duration: "PT30S" }, startAfter: ["lat"] };
    writeFileSync(file, JSON.stringify(tpl));
    await assert.rejects(
      run(
        awsCliV1.require(),
        [
          "fis",
          "create-experiment-template",
          "--cli-input-json",
          `file://${file}`,
          "--endpoint-url",
          api.url,
        ],
        { env: AWS_CLI_ENV },
      ),
      (e: { stderr: string }) => {
        assert.match(
          e.stderr,
          /An error occurred \(ValidationException\) when calling the CreateExperimentTemplate operation: actions\.pause\.parameters\.duration: "PT30S" is shorter than the PT1M minimum of aws:fis:wait/,
        );
        return true;
      },
    );
  });
});
