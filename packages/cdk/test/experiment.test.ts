import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { validateCreateTemplate } from "@faultline/rules";
import { Duration, type Stack } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import { Alarm, Dashboard, Metric } from "aws-cdk-lib/aws-cloudwatch";
import { LogGroup } from "aws-cdk-lib/aws-logs";
import { Bucket } from "aws-cdk-lib/aws-s3";
import {
  ExperimentAction,
  FaultlinePropsError,
  LambdaFaultExperiment,
  type LambdaFaultExperimentProps,
  LambdaTarget,
} from "../src/index.ts";
import { testFunction, testStack } from "./fixtures.ts";
import { onTaggedFunctions, REPORT_CONFIGURATION, TAGGED_FUNCTIONS } from "./seed-template.ts";

/** The seed's delay experiment: tag-selected, 2 s start delay, PT5M, 100 %, alarm stop, report with dashboard. */
function seedExperiment(stack: Stack, configBucket: Bucket, extra: Partial<LambdaFaultExperimentProps> = {}) {
  const reports = new Bucket(stack, "Reports");
  const dashboard = new Dashboard(stack, "Dashboard", { dashboardName: "orders" });
  const alarm = new Alarm(stack, "Errors", {
    metric: new Metric({ namespace: "AWS/Lambda", metricName: "Errors" }),
    threshold: 10,
    evaluationPeriods: 1,
  });
  const functions = LambdaTarget.fromTags({ FISExperimentReady: "Yes" });
  return new LambdaFaultExperiment(stack, "Delay", {
    description: "orders: 2000 ms start delay",
    configBucket,
    actions: {
      delay: ExperimentAction.addDelay({
        target: functions,
        duration: Duration.minutes(5),
        startupDelayMilliseconds: 2000,
        invocationPercentage: 100,
      }),
    },
    stopConditions: [alarm],
    report: {
      bucket: reports,
      prefix: "reports",
      dashboards: [dashboard],
      preExperimentDuration: "PT5M",
      postExperimentDuration: Duration.minutes(5),
    },
    tags: { Name: "orders-delay" },
    ...extra,
  });
}

const statementsOf = (template: Template, rolePrefix: string) => {
  const policies = template.findResources("AWS::IAM::Policy", {
    Properties: { Roles: [{ Ref: Match.stringLikeRegexp(`^${rolePrefix}`) }] },
  });
  return Object.values(policies).flatMap((p) => p.Properties.PolicyDocument.Statement) as {
    Sid: string;
    Action: string | string[];
    Resource: unknown;
  }[];
};

describe("LambdaFaultExperiment", () => {
  it("renders the FIS template in CloudFormation's casing, strings for every parameter", () => {
    const { stack, bucket } = testStack();
    seedExperiment(stack, bucket);
    Template.fromStack(stack).hasResourceProperties("AWS::FIS::ExperimentTemplate", {
      Description: "orders: 2000 ms start delay",
      RoleArn: { "Fn::GetAtt": [Match.stringLikeRegexp("^DelayRole"), "Arn"] },
      Targets: TAGGED_FUNCTIONS,
      Actions: {
        delay: onTaggedFunctions("aws:lambda:invocation-add-delay", { startupDelayMilliseconds: "2000" }),
      },
      StopConditions: [
        {
          Source: "aws:cloudwatch:alarm",
          Value: { "Fn::GetAtt": [Match.stringLikeRegexp("^Errors"), "Arn"] },
        },
      ],
      ExperimentOptions: { AccountTargeting: "single-account", EmptyTargetResolutionMode: "fail" },
      ExperimentReportConfiguration: REPORT_CONFIGURATION,
      Tags: { Name: "orders-delay" },
    });
  });

  it("the role trusts only this account's FIS experiments", () => {
    const { stack, bucket } = testStack();
    seedExperiment(stack, bucket);
    Template.fromStack(stack).hasResourceProperties("AWS::IAM::Role", {
      AssumeRolePolicyDocument: {
        Statement: [
          {
            Action: "sts:AssumeRole",
            Effect: "Allow",
            Principal: { Service: "fis.amazonaws.com" },
            Condition: {
              StringEquals: { "aws:SourceAccount": "123456789012" },
              ArnLike: {
                "aws:SourceArn": {
                  "Fn::Join": [
                    "",
                    ["arn:", { Ref: "AWS::Partition" }, ":fis:eu-west-1:123456789012:experiment/*"],
                  ],
                },
              },
            },
          },
        ],
      },
    });
  });

  it("the role holds exactly what the template needs: fault objects, functions, tags, report bucket and dashboard", () => {
    const { stack, bucket } = testStack();
    seedExperiment(stack, bucket);
    const statements = statementsOf(Template.fromStack(stack), "DelayRole");
    const bySid = Object.fromEntries(statements.map((s) => [s.Sid, s]));
    assert.deepEqual(Object.keys(bySid).sort(), [
      "ReadReportDashboards",
      "ReadTargetFunctions",
      "RenderReportWidgets",
      "ResolveTargetTags",
      "WriteFaultObjects",
      "WriteReports",
    ]);
    assert.deepEqual(bySid.WriteFaultObjects!.Action, ["s3:PutObject", "s3:DeleteObject"]);
    assert.match(JSON.stringify(bySid.WriteFaultObjects!.Resource), /"\/FisConfigs\/\*"/);
    assert.equal(bySid.ReadTargetFunctions!.Action, "lambda:GetFunction");
    assert.match(
      JSON.stringify(bySid.ReadTargetFunctions!.Resource),
      /^\{"Fn::Join":\["",\["arn:",\{"Ref":"AWS::Partition"\},":lambda:eu-west-1:123456789012:function:\*"\]\]\}$/,
    );
    assert.equal(bySid.ResolveTargetTags!.Resource, "*");
    assert.deepEqual(bySid.WriteReports!.Action, ["s3:PutObject", "s3:GetObject"]);
    assert.match(JSON.stringify(bySid.WriteReports!.Resource), /"\/reports\/\*"/);
    assert.equal(bySid.ReadReportDashboards!.Action, "cloudwatch:GetDashboard");
    assert.equal(bySid.RenderReportWidgets!.Resource, "*");
  });

  it("ARN targets: lambda:GetFunction on those functions only (and their versions), qualifier and selection mode kept", () => {
    const { stack, bucket } = testStack();
    const fn = testFunction(stack, "Fn");
    new LambdaFaultExperiment(stack, "Error", {
      description: "errors",
      configBucket: bucket,
      logGroup: new LogGroup(stack, "Log"),
      actions: {
        error: ExperimentAction.invocationError({
          target: LambdaTarget.fromFunctions([fn], { qualifier: "$LATEST", selectionMode: "COUNT(1)" }),
          duration: "PT2M",
          preventExecution: true,
        }),
        pause: ExperimentAction.wait({ duration: "PT1M", startAfter: ["error"] }),
      },
    });
    const template = Template.fromStack(stack);
    template.hasResourceProperties("AWS::FIS::ExperimentTemplate", {
      Targets: {
        Functions: {
          ResourceArns: [{ "Fn::GetAtt": [Match.stringLikeRegexp("^Fn"), "Arn"] }],
          SelectionMode: "COUNT(1)",
          Parameters: { functionQualifier: "$LATEST" },
        },
      },
      Actions: {
        error: {
          ActionId: "aws:lambda:invocation-error",
          Parameters: { duration: "PT2M", preventExecution: "true" },
        },
        pause: { ActionId: "aws:fis:wait", Parameters: { duration: "PT1M" }, StartAfter: ["error"] },
      },
      StopConditions: [{ Source: "none" }],
      LogConfiguration: {
        CloudWatchLogsConfiguration: {
          LogGroupArn: { "Fn::GetAtt": [Match.stringLikeRegexp("^Log"), "Arn"] },
        },
        LogSchemaVersion: 2,
      },
    });
    const bySid = Object.fromEntries(statementsOf(template, "ErrorRole").map((s) => [s.Sid, s]));
    const arn = { "Fn::GetAtt": [Match.stringLikeRegexp("^Fn"), "Arn"] };
    assert.equal(JSON.stringify(bySid.ReadTargetFunctions!.Resource).match(/Fn::GetAtt/g)?.length, 2);
    assert.ok(arn);
    assert.ok(bySid.DeliverExperimentLogs);
    assert.equal(bySid.WriteReports, undefined, "no report configuration, no report grant");
  });

  it("a wait-only experiment needs no config bucket and grants nothing", () => {
    const { stack } = testStack();
    new LambdaFaultExperiment(stack, "Pause", {
      description: "pause",
      actions: { pause: ExperimentAction.wait({ duration: Duration.minutes(1) }) },
    });
    assert.deepEqual(statementsOf(Template.fromStack(stack), "PauseRole"), []);
  });

  // CDK's Dashboard.dashboardArn is built from the dashboardName prop, so it ends in "dashboard/" when the
  // dashboard is left unnamed; the name CloudFormation gives it is the resource's Ref.
  it("a dashboard without a dashboardName is named by its Ref in the report and the GetDashboard grant", () => {
    const { stack, bucket } = testStack();
    const dashboard = new Dashboard(stack, "Unnamed");
    new LambdaFaultExperiment(stack, "Delay", {
      description: "delay",
      configBucket: bucket,
      actions: {
        delay: ExperimentAction.addDelay({
          target: LambdaTarget.fromTags({ chaos: "enabled" }),
          duration: "PT1M",
          startupDelayMilliseconds: 100,
        }),
      },
      report: { bucket: new Bucket(stack, "Reports"), dashboards: [dashboard] },
    });
    const template = Template.fromStack(stack);
    const arn = {
      "Fn::Join": [
        "",
        [
          "arn:",
          { Ref: "AWS::Partition" },
          ":cloudwatch::123456789012:dashboard/",
          { Ref: stack.getLogicalId(dashboard.node.defaultChild as never) },
        ],
      ],
    };
    template.hasResourceProperties("AWS::FIS::ExperimentTemplate", {
      ExperimentReportConfiguration: {
        DataSources: { CloudWatchDashboards: [{ DashboardIdentifier: arn }] },
      },
    });
    const read = statementsOf(template, "DelayRole").find((s) => s.Sid === "ReadReportDashboards");
    assert.deepEqual(read?.Resource, arn);
  });
});

describe("LambdaFaultExperiment: props are validated with the engine's rules at synth time", () => {
  const cases: [
    string,
    Partial<LambdaFaultExperimentProps> | ((s: Stack) => Partial<LambdaFaultExperimentProps>),
    RegExp,
  ][] = [
    [
      "a percentage over 100",
      () => ({
        actions: {
          delay: ExperimentAction.addDelay({
            target: LambdaTarget.fromTags({ a: "b" }),
            duration: "PT5M",
            invocationPercentage: 150,
          }),
        },
      }),
      /actions\.delay\.parameters\.invocationPercentage: must be from 1 to 100, got 150/,
    ],
    [
      "a fractional percentage",
      () => ({
        actions: {
          delay: ExperimentAction.addDelay({
            target: LambdaTarget.fromTags({ a: "b" }),
            duration: "PT5M",
            invocationPercentage: 2.5,
          }),
        },
      }),
      /actions\.delay\.parameters\.invocationPercentage: must be a whole number from 1 to 100, got "2.5"/,
    ],
    [
      "a malformed duration",
      () => ({
        actions: {
          delay: ExperimentAction.addDelay({
            target: LambdaTarget.fromTags({ a: "b" }),
            duration: "5min",
          }),
        },
      }),
      /actions\.delay\.parameters\.duration: "5min" is not an ISO 8601 duration/,
    ],
    [
      "a delay over 900000 ms",
      () => ({
        actions: {
          delay: ExperimentAction.addDelay({
            target: LambdaTarget.fromTags({ a: "b" }),
            duration: "PT5M",
            startupDelayMilliseconds: 900_001,
          }),
        },
      }),
      /actions\.delay\.parameters\.startupDelayMilliseconds: must be from 0 to 900000/,
    ],
    [
      "an action over the 12-hour quota",
      () => ({
        actions: {
          delay: ExperimentAction.addDelay({
            target: LambdaTarget.fromTags({ a: "b" }),
            duration: Duration.hours(13),
          }),
        },
      }),
      /actions\.delay\.parameters\.duration: PT13H exceeds the quota of PT12H per action/,
    ],
    [
      "a report window the engine does not take",
      (s) => ({ report: { bucket: new Bucket(s, "R2"), preExperimentDuration: "PT2H" } }),
      /experimentReportConfiguration\.preExperimentDuration: "PT2H" must be between PT1S and PT30M/,
    ],
    [
      "a bad selection mode",
      () => ({
        actions: {
          delay: ExperimentAction.addDelay({
            target: LambdaTarget.fromTags({ a: "b" }, { selectionMode: "PERCENT(0)" }),
            duration: "PT5M",
          }),
        },
      }),
      /targets\.Functions\.selectionMode: PERCENT\(n\) needs n from 1 to 100/,
    ],
    [
      "startAfter naming no action",
      () => ({ actions: { pause: ExperimentAction.wait({ duration: "PT1M", startAfter: ["nope"] }) } }),
      /actions\.pause\.startAfter\.0: refers to unknown action "nope"/,
    ],
    [
      "an HTTP status over 999",
      () => ({
        actions: {
          http: ExperimentAction.httpIntegrationResponse({
            target: LambdaTarget.fromTags({ a: "b" }),
            duration: "PT1M",
            statusCode: 1000,
            contentTypeHeader: "application/json",
            preventExecution: true,
          }),
        },
      }),
      /actions\.http\.parameters\.statusCode: must be from 0 to 999, got 1000/,
    ],
  ];
  for (const [name, props, message] of cases) {
    it(`${name} fails synth naming the field`, () => {
      const { stack, bucket } = testStack();
      const extra = typeof props === "function" ? props(stack) : props;
      assert.throws(
        () => seedExperiment(stack, bucket, extra),
        (e: unknown) =>
          e instanceof FaultlinePropsError &&
          message.test(e.message) &&
          /^LambdaFaultExperiment Test\/Delay: /.test(e.message),
      );
    });
  }

  it("the same words as the engine's CreateExperimentTemplate for the same template", () => {
    const { stack, bucket } = testStack();
    const body = {
      description: "d",
      roleArn: "arn:aws:iam::123456789012:role/r",
      targets: {
        Functions: { resourceType: "aws:lambda:function", resourceTags: { a: "b" }, selectionMode: "ALL" },
      },
      actions: {
        delay: {
          actionId: "aws:lambda:invocation-add-delay",
          parameters: { duration: "PT5M", invocationPercentage: "0" },
          targets: { Functions: "Functions" },
        },
      },
      stopConditions: [{ source: "none" }],
    };
    const engineMessage = (() => {
      try {
        validateCreateTemplate(body);
      } catch (e) {
        return (e as Error).message;
      }
      return "accepted";
    })();
    assert.throws(
      () =>
        seedExperiment(stack, bucket, {
          actions: {
            delay: ExperimentAction.addDelay({
              target: LambdaTarget.fromTags({ a: "b" }),
              duration: "PT5M",
              invocationPercentage: 0,
            }),
          },
        }),
      (e: unknown) => (e as Error).message === `LambdaFaultExperiment Test/Delay: ${engineMessage}`,
    );
  });

  it("Lambda actions without a config bucket fail synth naming configBucket", () => {
    const { stack } = testStack();
    assert.throws(
      () =>
        new LambdaFaultExperiment(stack, "X", {
          description: "x",
          actions: {
            error: ExperimentAction.invocationError({
              target: LambdaTarget.fromTags({ a: "b" }),
              duration: "PT1M",
              preventExecution: false,
            }),
          },
        }),
      /configBucket: is required/,
    );
  });
});
