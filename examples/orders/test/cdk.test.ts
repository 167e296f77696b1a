/**
 * The orders CDK app: `npm run synth`'s stack checked resource by resource, then the round trip — its two experiment templates, read from cdk.out,
 * created unchanged through the AWS CLI in `faultline up` running the local demo's lab, one started and stopped.
 */
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import {
  FisClient,
  GetExperimentCommand,
  StartExperimentCommand,
  StopExperimentCommand,
} from "@aws-sdk/client-fis";
import { ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { S3_CREDENTIALS } from "@faultline/lab";
import { awsCliV1 } from "@faultline/testing";
import { Template } from "aws-cdk-lib/assertions";
import {
  onTaggedFunctions,
  REPORT_CONFIGURATION,
  TAGGED_FUNCTIONS,
} from "../../../packages/cdk/test/seed-template.ts";
import { experimentTemplatesFromCdkOut } from "../cdk/round-trip.ts";
import { buildAssets, STACK_NAME, synthOrders } from "../cdk/synth.ts";

// Node 20 is what this machine has; the SDK's notice that Node 22 will be needed next year is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
const ROOT = join(import.meta.dirname, "..", "..", "..");
const LAB_JSON = join(import.meta.dirname, "..", "lab.json");
const dir = mkdtempSync(join(tmpdir(), "faultline-orders-cdk-"));
const cdkOut = join(dir, "cdk.out");
let template: Template;

let up: FaultlineUp | undefined;

before(async () => {
  await buildAssets();
  // `faultline up` (the demo's lab: its functions, the layer) starts while the stack synthesises.
  const starting = awsCliV1.skip ? undefined : startFaultlineUp();
  // CDK's built-in CloudFormation validation (on in `npm run synth`) costs ~10 s of CPU on this stack: off here.
  const { stack } = await synthOrders({ outdir: cdkOut, validate: false, prebuilt: true });
  template = Template.fromStack(stack);
  up = await starting;
});
after(async () => {
  await up?.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface FaultlineUp {
  endpoints: { fis: string; s3: string };
  stop(): Promise<void>;
}

/** `faultline up --json --config examples/orders/lab.json`, as a user runs it: the real bin, its one JSON line. */
async function startFaultlineUp(): Promise<FaultlineUp> {
  const child = spawn(
    process.execPath,
    [
      join(ROOT, "packages/cli/bin/faultline.mjs"),
      "up",
      "--json",
      "--config",
      LAB_JSON,
      "--data-dir",
      join(dir, "engine"),
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let stderr = "";
  child.stderr.on("data", (c) => {
    stderr += c;
  });
  const exited = once(child, "exit");
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    await exited;
  };
  try {
    const [line] = (await Promise.race([
      once(createInterface({ input: child.stdout }), "line"),
      exited.then(() => {
        throw new Error(`faultline up exited: ${stderr}`);
      }),
    ])) as [string];
    return { endpoints: JSON.parse(line), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

describe("examples/orders CDK app (synthesised offline)", () => {
  it("REST API → three functions from the demo's handler source → one DynamoDB table", () => {
    template.resourceCountIs("AWS::Lambda::Function", 3);
    template.resourceCountIs("AWS::DynamoDB::Table", 1);
    template.hasResourceProperties("AWS::ApiGateway::RestApi", { Name: "orders" });
    const methods = Object.values(template.findResources("AWS::ApiGateway::Method")).map(
      (m) => m.Properties.HttpMethod,
    );
    assert.deepEqual(methods.sort(), ["DELETE", "GET", "POST"]);
    const resources = Object.values(template.findResources("AWS::ApiGateway::Resource")).map(
      (r) => r.Properties.PathPart,
    );
    assert.deepEqual(resources.sort(), ["orders", "{id}"]);
    // The assets are the demo's esbuild bundles (.build/<function>/index.js), not a second copy of the code.
    const assets = JSON.parse(readFileSync(join(cdkOut, `${STACK_NAME}.assets.json`), "utf8")).files;
    const sources = Object.values(assets as Record<string, { source: { path: string } }>).map(
      (a) => a.source.path,
    );
    assert.equal(sources.filter((p) => p.startsWith("asset.")).length, 4, "three functions and the layer");
  });

  it("every function is tagged as the seed's and enabled: faultline's layer, wrapper, location, poll wait, metrics", () => {
    const functions = Object.values(template.findResources("AWS::Lambda::Function"));
    for (const fn of functions) {
      const p = fn.Properties;
      assert.deepEqual(p.Tags.map((t: { Key: string; Value: string }) => `${t.Key}=${t.Value}`).sort(), [
        "FISExperimentReady=Yes",
        "app=orders",
      ]);
      assert.equal(p.Layers.length, 1);
      assert.match(p.Layers[0].Ref, /^FaultlineLayer/);
      const v = p.Environment.Variables;
      assert.equal(v.AWS_LAMBDA_EXEC_WRAPPER, "/opt/faultline/bootstrap");
      assert.equal(v.AWS_FIS_POLL_MAX_WAIT_MILLISECONDS, "2000");
      assert.equal(v.AWS_FIS_EXTENSION_METRICS, "all");
      const [bucketArn, prefix] = v.AWS_FIS_CONFIGURATION_LOCATION["Fn::Join"][1];
      assert.match(bucketArn["Fn::GetAtt"][0], /^FaultConfigs/);
      assert.equal(prefix, "/FisConfigs/");
    }
    template.resourceCountIs("AWS::Lambda::LayerVersion", 1);
    template.resourceCountIs("AWS::S3::Bucket", 2);
    template.resourceCountIs("AWS::CloudWatch::Dashboard", 1);
  });

  it("two experiment templates as the seed's: 2 s start delay and invocation error, PT5M, 100 %, tag-selected, report", () => {
    const common = {
      Targets: TAGGED_FUNCTIONS,
      StopConditions: [{ Source: "none" }],
      ExperimentReportConfiguration: REPORT_CONFIGURATION,
    };
    template.resourceCountIs("AWS::FIS::ExperimentTemplate", 2);
    template.hasResourceProperties("AWS::FIS::ExperimentTemplate", {
      ...common,
      Actions: {
        delay: onTaggedFunctions("aws:lambda:invocation-add-delay", { startupDelayMilliseconds: "2000" }),
      },
      Tags: { Name: "orders-delay" },
    });
    template.hasResourceProperties("AWS::FIS::ExperimentTemplate", {
      ...common,
      Actions: { error: onTaggedFunctions("aws:lambda:invocation-error", { preventExecution: "true" }) },
      Tags: { Name: "orders-error" },
    });
  });
});

const AWS_ENV = {
  ...process.env,
  AWS_ACCESS_KEY_ID: S3_CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: S3_CREDENTIALS.secretAccessKey,
  AWS_DEFAULT_REGION: "us-east-1",
  AWS_EC2_METADATA_DISABLED: "true",
  AWS_CONFIG_FILE: "/dev/null",
  AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
  AWS_PAGER: "",
};

describe("round trip: the synthesised templates in faultline up, through the AWS CLI", {
  skip: awsCliV1.skip,
}, () => {
  it("are created unchanged and one runs: fault objects written, then removed on stop", async () => {
    const { fis, s3 } = up!.endpoints;
    const lab = JSON.parse(readFileSync(LAB_JSON, "utf8")) as { accountId: string; region: string };
    const templates = experimentTemplatesFromCdkOut(cdkOut, STACK_NAME, {
      accountId: lab.accountId,
      region: lab.region,
      names: { Reports: "faultline-reports", FaultConfigs: "faultline-faults" },
      roleArn: `arn:aws:iam::${lab.accountId}:role/faultline`,
    });
    const byName = Object.fromEntries(
      Object.entries(templates).map(([id, body]) => [id.replace(/[0-9A-F]{8}$/, ""), body]),
    );
    assert.deepEqual(Object.keys(byName).sort(), ["DelayExperiment", "ErrorExperiment"]);
    // Through the AWS CLI (v1: the Debian CLI v2 here predates experimentReportConfiguration), each file as is.
    const created: Record<string, string> = {};
    for (const [name, body] of Object.entries(byName)) {
      const file = join(dir, `${name}.json`);
      writeFileSync(file, JSON.stringify(body, null, 2));
      const { stdout } = await promisify(execFile)(
        awsCliV1.require(),
        ["fis", "create-experiment-template", "--cli-input-json", `file://${file}`, "--endpoint-url", fis],
        { env: AWS_ENV },
      );
      const got = JSON.parse(stdout).experimentTemplate;
      for (const field of Object.keys(body)) {
        assert.deepEqual(got[field], body[field], `${name}: ${field} as written`);
      }
      created[name] = got.id;
    }

    // The run, through the SDK (each CLI call costs a Python start): the error experiment, started and stopped.
    const client = { region: lab.region, credentials: S3_CREDENTIALS };
    const fisClient = new FisClient({ ...client, endpoint: fis });
    const s3Client = new S3Client({ ...client, endpoint: s3, forcePathStyle: true });
    const faultFunctions = async () =>
      (
        (await s3Client.send(new ListObjectsV2Command({ Bucket: "faultline-faults", Prefix: "FisConfigs/" })))
          .Contents ?? []
      )
        .map((o) => o.Key!.split("/")[1]!)
        // The engine's change marker (.faultline/…) sits beside the per-function fault objects.
        .filter((segment) => !segment.startsWith("."))
        .sort();
    const { experiment } = await fisClient.send(
      new StartExperimentCommand({ experimentTemplateId: created.ErrorExperiment }),
    );
    const until = async (done: (status: string) => boolean) => {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const state = (await fisClient.send(new GetExperimentCommand({ id: experiment!.id })))!.experiment!
          .state!;
        if (done(state.status!) || Date.now() > deadline) return state;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };
    const running = await until((s) => !["pending", "initiating"].includes(s));
    assert.equal(running.status, "running", running.reason);
    assert.deepEqual(
      await faultFunctions(),
      ["CreateOrder", "DeleteOrder", "GetOrder"],
      "one per tagged function",
    );
    await fisClient.send(new StopExperimentCommand({ id: experiment!.id }));
    const stopped = await until((s) => !["running", "stopping"].includes(s));
    assert.equal(stopped.status, "stopped", stopped.reason);
    assert.deepEqual(await faultFunctions(), []);
    fisClient.destroy();
    s3Client.destroy();
  });
});
