/**
 * The orders CDK app: `npm run synth`'s stack checked resource by resource (with CDK's built-in CloudFormation
 * validation on, as `cdk synth` runs it), then the round trip — its two experiment templates, read from cdk.out,
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
import { S3_CREDENTIALS } from "@faultline/lab";
import { awsCliV1 } from "@faultline/testing";
import { Match, Template } from "aws-cdk-lib/assertions";
import { experimentTemplatesFromCdkOut } from "../cdk/round-trip.ts";
import { STACK_NAME, synthOrders } from "../cdk/synth.ts";

const ROOT = join(import.meta.dirname, "..", "..", "..");
const LAB_JSON = join(import.meta.dirname, "..", "lab.json");
const dir = mkdtempSync(join(tmpdir(), "faultline-orders-cdk-"));
const cdkOut = join(dir, "cdk.out");
let template: Template;
let validationReport: { pluginReports: { conclusion: string; violations: unknown[] }[] };

before(async () => {
  const { stack } = await synthOrders({ outdir: cdkOut });
  template = Template.fromStack(stack);
  validationReport = JSON.parse(readFileSync(join(cdkOut, "validation-report.json"), "utf8"));
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe("examples/orders CDK app (synthesised offline)", () => {
  it("passes CDK's built-in CloudFormation validation", () => {
    const failed = validationReport.pluginReports.filter((r) => r.conclusion !== "success");
    assert.deepEqual(failed, []);
  });

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
      assert.deepEqual(
        p.Layers,
        [{ Ref: Match.stringLikeRegexp("^FaultlineLayer") }].map(() => p.Layers[0]),
      );
      assert.match(p.Layers[0].Ref, /^FaultlineLayer/);
      assert.equal(p.Environment.Variables.AWS_LAMBDA_EXEC_WRAPPER, "/opt/faultline/bootstrap");
      assert.equal(p.Environment.Variables.AWS_FIS_POLL_MAX_WAIT_MILLISECONDS, "2000");
      assert.equal(p.Environment.Variables.AWS_FIS_EXTENSION_METRICS, "all");
      assert.deepEqual(p.Environment.Variables.AWS_FIS_CONFIGURATION_LOCATION, {
        "Fn::Join": [
          "",
          [
            {
              "Fn::GetAtt": [
                Match.stringLikeRegexp("^FaultConfigs").toString() &&
                  p.Environment.Variables.AWS_FIS_CONFIGURATION_LOCATION["Fn::Join"][1][0]["Fn::GetAtt"][0],
                "Arn",
              ],
            },
            "/FisConfigs/",
          ],
        ],
      });
    }
    template.resourceCountIs("AWS::Lambda::LayerVersion", 1);
    template.resourceCountIs("AWS::S3::Bucket", 2);
    template.resourceCountIs("AWS::CloudWatch::Dashboard", 1);
  });

  it("two experiment templates as the seed's: 2 s start delay and invocation error, PT5M, 100 %, tag-selected, report", () => {
    const common = {
      Targets: {
        Functions: {
          ResourceType: "aws:lambda:function",
          ResourceTags: { FISExperimentReady: "Yes" },
          SelectionMode: "ALL",
        },
      },
      StopConditions: [{ Source: "none" }],
      ExperimentReportConfiguration: {
        Outputs: {
          ExperimentReportS3Configuration: {
            BucketName: { Ref: Match.stringLikeRegexp("^Reports") },
            Prefix: "reports",
          },
        },
        DataSources: { CloudWatchDashboards: [{ DashboardIdentifier: Match.anyValue() }] },
        PreExperimentDuration: "PT5M",
        PostExperimentDuration: "PT5M",
      },
    };
    template.resourceCountIs("AWS::FIS::ExperimentTemplate", 2);
    template.hasResourceProperties("AWS::FIS::ExperimentTemplate", {
      ...common,
      Actions: {
        delay: {
          ActionId: "aws:lambda:invocation-add-delay",
          Parameters: { duration: "PT5M", startupDelayMilliseconds: "2000", invocationPercentage: "100" },
          Targets: { Functions: "Functions" },
        },
      },
      Tags: { Name: "orders-delay" },
    });
    template.hasResourceProperties("AWS::FIS::ExperimentTemplate", {
      ...common,
      Actions: {
        error: {
          ActionId: "aws:lambda:invocation-error",
          Parameters: { duration: "PT5M", preventExecution: "true", invocationPercentage: "100" },
          Targets: { Functions: "Functions" },
        },
      },
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
  it("are created unchanged, read back as written, and one runs: fault objects written, then removed on stop", async (t) => {
    // AWS CLI v1 (botocore): the Debian CLI v2 here predates experimentReportConfiguration.
    const up = spawn(
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
    up.stderr.on("data", (c) => {
      stderr += c;
    });
    const exited = once(up, "exit");
    t.after(async () => {
      if (up.exitCode === null) {
        up.kill("SIGTERM");
        await exited;
      }
    });
    const [line] = (await Promise.race([
      once(createInterface({ input: up.stdout }), "line"),
      exited.then(() => {
        throw new Error(`faultline up exited: ${stderr}`);
      }),
    ])) as [string];
    const endpoints = JSON.parse(line) as { fis: string; s3: string; cloudwatch: string };
    const aws = async (service: string, endpoint: string, ...args: string[]) => {
      const { stdout } = await promisify(execFile)(
        awsCliV1.require(),
        [service, ...args, "--endpoint-url", endpoint, "--output", "json"],
        { env: AWS_ENV },
      );
      return stdout.trim() === "" ? {} : JSON.parse(stdout);
    };
    const lab = JSON.parse(readFileSync(LAB_JSON, "utf8")) as { accountId: string; region: string };
    const templates = experimentTemplatesFromCdkOut(cdkOut, STACK_NAME, {
      accountId: lab.accountId,
      region: lab.region,
      names: { Reports: "faultline-reports", FaultConfigs: "faultline-faults" },
      roleArn: `arn:aws:iam::${lab.accountId}:role/faultline`,
    });
    assert.deepEqual(
      Object.keys(templates)
        .map((id) => id.replace(/[0-9A-F]{8}$/, ""))
        .sort(),
      ["DelayExperiment", "ErrorExperiment"],
    );
    const created: Record<string, string> = {};
    for (const [id, body] of Object.entries(templates)) {
      const file = join(dir, `${id}.json`);
      writeFileSync(file, JSON.stringify(body, null, 2));
      const out = await aws(
        "fis",
        endpoints.fis,
        "create-experiment-template",
        "--cli-input-json",
        `file://${file}`,
      );
      const got = (
        await aws("fis", endpoints.fis, "get-experiment-template", "--id", out.experimentTemplate.id)
      ).experimentTemplate;
      for (const field of [
        "description",
        "roleArn",
        "targets",
        "actions",
        "stopConditions",
        "experimentReportConfiguration",
        "tags",
      ]) {
        assert.deepEqual(got[field], body[field], `${id}: ${field} reads back as written`);
      }
      created[id.replace(/[0-9A-F]{8}$/, "")] = out.experimentTemplate.id;
    }

    const faultKeys = async () =>
      ((
        await aws(
          "s3api",
          endpoints.s3,
          "list-objects-v2",
          "--bucket",
          "faultline-faults",
          "--prefix",
          "FisConfigs/",
        )
      ).Contents ?? []) as { Key: string }[];
    const x = (
      await aws(
        "fis",
        endpoints.fis,
        "start-experiment",
        "--experiment-template-id",
        created.ErrorExperiment!,
      )
    ).experiment;
    const status = async () =>
      (await aws("fis", endpoints.fis, "get-experiment", "--id", x.id)).experiment.state;
    let state = await status();
    while (["pending", "initiating"].includes(state.status)) state = await status();
    assert.equal(state.status, "running", state.reason);
    const keys = (await faultKeys()).map((o) => o.Key.split("/")[1]).sort();
    assert.deepEqual(
      keys,
      ["CreateOrder", "DeleteOrder", "GetOrder"],
      "one fault object per tag-selected function",
    );
    await aws("fis", endpoints.fis, "stop-experiment", "--id", x.id);
    while (["running", "stopping"].includes(state.status)) state = await status();
    assert.equal(state.status, "stopped");
    assert.deepEqual(await faultKeys(), []);
  });
});
