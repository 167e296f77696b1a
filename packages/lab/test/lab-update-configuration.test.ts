/**
 * PublishLayerVersion, ListLayerVersions, DeleteLayerVersion and UpdateFunctionConfiguration against real
 * environments of the lab: the writes through the AWS CLI v2 (/usr/bin/aws), the rest through the AWS SDK.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import {
  DeleteLayerVersionCommand,
  GetFunctionConfigurationCommand,
  GetLayerVersionCommand,
  InvokeCommand,
  LambdaClient,
  ListLayerVersionsCommand,
  PublishLayerVersionCommand,
  UpdateFunctionConfigurationCommand,
} from "@aws-sdk/client-lambda";
import { strToU8, zipSync } from "fflate";
import { awsCliV2 } from "../../testing/src/index.ts";
import { type Lab, startLab } from "../src/index.ts";

const run = promisify(execFile);
const CODE = fileURLToPath(new URL("./fixtures/lab-basic/node-echo/", import.meta.url));
/** AWS CLI v2: Debian's /usr/bin/aws. Missing → skipped with the reason locally, a failure under CI=true. */

describe("lab: layer versions and UpdateFunctionConfiguration through the AWS CLI v2", () => {
  const dir = mkdtempSync(join(tmpdir(), "faultline-lab-update-"));
  let lab: Lab;
  let cli: (...args: string[]) => Promise<Record<string, unknown>>;
  let lambda: LambdaClient;

  before(async () => {
    const base = join(dir, "base");
    mkdirSync(base);
    writeFileSync(join(base, "BASE"), "base layer\n");
    lab = await startLab({
      functions: [
        {
          name: "echo",
          runtime: "nodejs20.x",
          handler: "index.handler",
          code: CODE,
          layers: [base],
          environment: { GREETING: "hello", KEEP: "me" },
        },
      ],
    });
    const env = {
      ...process.env,
      AWS_ACCESS_KEY_ID: "AKIDTEST",
      AWS_SECRET_ACCESS_KEY: "secret",
      AWS_DEFAULT_REGION: "us-east-1",
      AWS_PAGER: "",
    };
    const args = (a: string[]) => [
      "lambda",
      ...a,
      "--endpoint-url",
      lab.endpoints.lambda,
      "--output",
      "json",
    ];
    cli = async (...a) => JSON.parse((await run(awsCliV2.require(), args(a), { env })).stdout || "{}");
    lambda = new LambdaClient({
      endpoint: lab.endpoints.lambda,
      region: "us-east-1",
      credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "secret" },
    });
  });
  after(async () => {
    lambda?.destroy();
    await lab?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const invoke = async (payload: object) => {
    const out = await lambda.send(
      new InvokeCommand({ FunctionName: "echo", Payload: JSON.stringify(payload) }),
    );
    return JSON.parse(Buffer.from(out.Payload!).toString()) as { env: { GREETING?: string } };
  };
  const created = () => lab.pool("echo")!.stats().created;
  const skipWithoutCli = (t: { skip: (why: string) => void }) => {
    if (!awsCliV2.skip) return false;
    t.skip(awsCliV2.skip);
    return true;
  };
  const ARN = "arn:aws:lambda:us-east-1:123456789012:layer";

  test("publish → versions count up from the config's 1; list newest first; delete hides a version", async (t) => {
    if (skipWithoutCli(t)) return;
    const zip = join(dir, "layer.zip");
    writeFileSync(zip, zipSync({ "faultline/VERSION": strToU8("9.9.9\n") }));
    const published = await cli(
      "publish-layer-version",
      ...["--layer-name", "base", "--zip-file", `fileb://${zip}`, "--description", "v2"],
      ...["--compatible-runtimes", "nodejs20.x"],
    );
    assert.equal(published.LayerVersionArn, `${ARN}:base:2`);
    assert.equal(published.Version, 2);
    assert.equal(published.Description, "v2");
    const content = await fetch((published.Content as { Location: string }).Location);
    assert.deepEqual(Buffer.from(await content.arrayBuffer()), readFileSync(zip));
    const third = await lambda.send(
      new PublishLayerVersionCommand({ LayerName: "base", Content: { ZipFile: readFileSync(zip) } }),
    );
    assert.equal(third.Version, 3);
    const listed = (await lambda.send(new ListLayerVersionsCommand({ LayerName: "base" }))).LayerVersions!;
    assert.deepEqual(
      listed.map((v) => v.Version),
      [3, 2, 1],
    );
    assert.equal(listed[1]!.Description, "v2");
    await lambda.send(new DeleteLayerVersionCommand({ LayerName: "base", VersionNumber: 3 }));
    const left = await lambda.send(new ListLayerVersionsCommand({ LayerName: "base" }));
    assert.deepEqual(
      left.LayerVersions?.map((v) => v.Version),
      [2, 1],
    );
    await assert.rejects(lambda.send(new GetLayerVersionCommand({ LayerName: "base", VersionNumber: 3 })), {
      name: "ResourceNotFoundException",
    });
    // Numbers are never reused after a delete.
    const fourth = await lambda.send(
      new PublishLayerVersionCommand({ LayerName: "base", Content: { ZipFile: readFileSync(zip) } }),
    );
    assert.equal(fourth.Version, 4);
    await assert.rejects(
      lambda.send(
        new PublishLayerVersionCommand({ LayerName: "base", Content: { ZipFile: Buffer.from("hello") } }),
      ),
      { name: "InvalidParameterValueException", message: /Could not unzip uploaded file/ },
    );
  });

  // https://docs.aws.amazon.com/lambda/latest/dg/functions-states.html: an update is InProgress, then Successful;
  // invocations after it run the new configuration.
  test("update: a new environment with the new variables and layers; the warm one is retired; RevisionId guards", async (t) => {
    if (skipWithoutCli(t)) return;
    assert.equal((await invoke({ echo: 1 })).env.GREETING, "hello");
    await invoke({ echo: 2 });
    assert.equal(created(), 1, "warm environment reused");
    const config = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: "echo" }));
    const updated = await cli(
      ...["update-function-configuration", "--function-name", "echo"],
      ...["--environment", JSON.stringify({ Variables: { GREETING: "bonjour", KEEP: "me" } })],
      ...["--layers", `${ARN}:base:2`, "--revision-id", String(config.RevisionId)],
    );
    assert.equal(updated.LastUpdateStatus, "InProgress");
    assert.notEqual(updated.RevisionId, config.RevisionId);
    const now = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: "echo" }));
    assert.equal(now.LastUpdateStatus, "Successful");
    assert.equal(now.State, "Active");
    assert.deepEqual((now.Environment as { Variables: object }).Variables, {
      GREETING: "bonjour",
      KEEP: "me",
    });
    assert.deepEqual(
      now.Layers?.map((l) => l.Arn),
      [`${ARN}:base:2`],
    );
    assert.equal((await invoke({ echo: 3 })).env.GREETING, "bonjour");
    assert.equal(created(), 2, "a new environment runs the new configuration");
    assert.equal(lab.pool("echo")!.stats().environments, 1, "the old warm environment was retired");

    const update = (input: Record<string, unknown>) =>
      lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: "echo", ...input }));
    await assert.rejects(update({ Timeout: 5, RevisionId: config.RevisionId }), {
      name: "PreconditionFailedException",
    });
    const six = Array.from({ length: 6 }, (_, i) => `${ARN}:l${i}:1`);
    await assert.rejects(update({ Layers: six }), { message: /Cannot reference more than 5 layers/ });
    await assert.rejects(update({ Layers: [`${ARN}:base:1`, `${ARN}:base:2`] }), {
      message: /Two different versions of the same layer/,
    });
    await assert.rejects(update({ Layers: [`${ARN}:nope:1`] }), {
      name: "InvalidParameterValueException",
      message: `Layer version ${ARN}:nope:1 does not exist.`,
    });
    await assert.rejects(update({ Environment: { Variables: { AWS_REGION: "x" } } }), {
      message: /reserved keys .* AWS_REGION/,
    });
    await assert.rejects(
      lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: "nope", Timeout: 5 })),
      { name: "ResourceNotFoundException" },
    );
  });
});
