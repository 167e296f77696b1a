import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { validateCreateTemplate } from "@faultline/rules";
import { Duration } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { Bucket } from "aws-cdk-lib/aws-s3";
import {
  CloudFormationTemplateError,
  cloudFormationFromFisTemplate,
  ExperimentAction,
  fisTemplateFromCloudFormation,
  LambdaFaultExperiment,
  LambdaTarget,
  resolveIntrinsics,
} from "../src/index.ts";
import { testStack } from "./fixtures.ts";

/** A template touching every mapped field, in the FIS API's casing. */
const API_TEMPLATE = {
  description: "every field",
  roleArn: "arn:aws:iam::123456789012:role/fis",
  targets: {
    Functions: {
      resourceType: "aws:lambda:function",
      resourceTags: { FISExperimentReady: "Yes", "With Space": "x" },
      selectionMode: "PERCENT(50)",
      parameters: { functionQualifier: "live" },
    },
    Filtered: {
      resourceType: "aws:lambda:function",
      filters: [{ path: "Runtime", values: ["nodejs20.x"] }],
      selectionMode: "ALL",
    },
  },
  actions: {
    delay: {
      actionId: "aws:lambda:invocation-add-delay",
      description: "d",
      parameters: { duration: "PT5M", startupDelayMilliseconds: "2000" },
      targets: { Functions: "Functions" },
    },
    after: { actionId: "aws:fis:wait", parameters: { duration: "PT1M" }, startAfter: ["delay"] },
  },
  stopConditions: [
    { source: "aws:cloudwatch:alarm", value: "arn:aws:cloudwatch:us-east-1:123456789012:alarm:errors" },
  ],
  logConfiguration: {
    cloudWatchLogsConfiguration: { logGroupArn: "arn:aws:logs:us-east-1:123456789012:log-group:fis" },
    s3Configuration: { bucketName: "logs-bucket", prefix: "fis" },
    logSchemaVersion: 2,
  },
  experimentOptions: { accountTargeting: "single-account", emptyTargetResolutionMode: "skip" },
  experimentReportConfiguration: {
    outputs: { s3Configuration: { bucketName: "reports-bucket", prefix: "reports" } },
    dataSources: {
      cloudWatchDashboards: [{ dashboardIdentifier: "arn:aws:cloudwatch::123456789012:dashboard/orders" }],
    },
    preExperimentDuration: "PT5M",
    postExperimentDuration: "PT5M",
  },
  tags: { Name: "x" },
};

describe("CloudFormation ↔ FIS API casing", () => {
  it("maps every field both ways, keeping map keys (target, action, tag and parameter names) as written", () => {
    const cfn = cloudFormationFromFisTemplate(API_TEMPLATE);
    assert.deepEqual(Object.keys(cfn).sort(), [
      "Actions",
      "Description",
      "ExperimentOptions",
      "ExperimentReportConfiguration",
      "LogConfiguration",
      "RoleArn",
      "StopConditions",
      "Tags",
      "Targets",
    ]);
    const report = cfn.ExperimentReportConfiguration as { Outputs: Record<string, unknown> };
    assert.deepEqual(report.Outputs, {
      ExperimentReportS3Configuration: { BucketName: "reports-bucket", Prefix: "reports" },
    });
    const targets = cfn.Targets as Record<string, Record<string, unknown>>;
    assert.deepEqual(targets.Functions!.ResourceTags, { FISExperimentReady: "Yes", "With Space": "x" });
    assert.deepEqual(targets.Filtered!.Filters, [{ Path: "Runtime", Values: ["nodejs20.x"] }]);
    assert.deepEqual(fisTemplateFromCloudFormation(cfn), API_TEMPLATE);
  });

  it("an unknown CloudFormation property fails naming its path", () => {
    assert.throws(
      () =>
        fisTemplateFromCloudFormation({ Description: "x", Targets: { T: { ResourceType: "r", Bogus: 1 } } }),
      (e: unknown) =>
        e instanceof CloudFormationTemplateError && e.message === "Targets.T.Bogus: not a known field",
    );
  });

  it("resolves Ref, Fn::GetAtt, Fn::Join and Fn::Sub from given values, and names what it cannot", () => {
    const values = {
      refs: { Bucket: "my-bucket", "AWS::Partition": "aws" },
      attributes: { "Role.Arn": "arn:r" },
    };
    assert.deepEqual(
      resolveIntrinsics(
        {
          a: { Ref: "Bucket" },
          b: { "Fn::GetAtt": ["Role", "Arn"] },
          c: { "Fn::Join": ["", ["arn:", { Ref: "AWS::Partition" }, ":s3:::x"]] },
          // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation's Fn::Sub syntax, not JavaScript's
          d: { "Fn::Sub": "arn:${AWS::Partition}:s3:::${Bucket}/${Role.Arn}" },
        },
        values,
      ),
      { a: "my-bucket", b: "arn:r", c: "arn:aws:s3:::x", d: "arn:aws:s3:::my-bucket/arn:r" },
    );
    assert.throws(() => resolveIntrinsics({ x: { Ref: "Nope" } }, values), /x: no value for Ref Nope/);
  });

  it("a synthesised experiment, resolved and mapped back, is its FIS template — and the engine accepts it", () => {
    const { stack, bucket } = testStack();
    const experiment = new LambdaFaultExperiment(stack, "Delay", {
      description: "delay",
      configBucket: bucket,
      actions: {
        delay: ExperimentAction.addDelay({
          target: LambdaTarget.fromTags({ FISExperimentReady: "Yes" }),
          duration: Duration.minutes(5),
          startupDelayMilliseconds: 2000,
        }),
      },
      report: { bucket: new Bucket(stack, "Reports"), prefix: "reports", preExperimentDuration: "PT5M" },
    });
    const resources = Template.fromStack(stack).findResources("AWS::FIS::ExperimentTemplate");
    const [id, resource] = Object.entries(resources)[0]!;
    assert.ok(id.startsWith("Delay"));
    const refs = Object.fromEntries(
      Object.keys(Template.fromStack(stack).toJSON().Resources).map((logicalId) => [
        logicalId,
        `${logicalId.toLowerCase()}-name`,
      ]),
    );
    const attributes = {
      [`${stack.resolve(stack.getLogicalId(experiment.role.node.defaultChild as never))}.Arn`]:
        "arn:aws:iam::123456789012:role/fis",
    };
    const values = { refs: { ...refs, "AWS::Partition": "aws" }, attributes };
    const fromCfn = fisTemplateFromCloudFormation(
      resolveIntrinsics(resource.Properties, values) as Record<string, unknown>,
    );
    assert.deepEqual(fromCfn, resolveIntrinsics(stack.resolve(experiment.fisTemplate), values));
    assert.doesNotThrow(() => validateCreateTemplate(fromCfn));
  });
});
