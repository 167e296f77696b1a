import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { Validations } from "aws-cdk-lib";
import { Dashboard } from "aws-cdk-lib/aws-cloudwatch";
import { LogGroup } from "aws-cdk-lib/aws-logs";
import { Bucket } from "aws-cdk-lib/aws-s3";
import { AwsSolutionsChecks } from "cdk-nag";
import {
  ExperimentAction,
  Faultline,
  FaultlineLayer,
  LambdaFaultExperiment,
  LambdaTarget,
} from "../src/index.ts";
import { LAYER_ZIP, testFunction, testStack } from "./fixtures.ts";

interface Violation {
  ruleName: string;
  violatingConstructs: { constructPath: string }[];
}

describe("cdk-nag AwsSolutions", () => {
  it("finds nothing on the constructs' own resources (each wildcard acknowledged with its reason)", () => {
    const { app, stack, bucket } = testStack();
    const layer = new FaultlineLayer(stack, "Layer", { zipPath: LAYER_ZIP });
    const byArn = testFunction(stack, "Fn");
    Faultline.enable(byArn, { configBucket: bucket, layer });
    const reports = new Bucket(stack, "Reports");
    const common = {
      configBucket: bucket,
      report: { bucket: reports, prefix: "reports", dashboards: [new Dashboard(stack, "Dashboard")] },
      logGroup: new LogGroup(stack, "Log"),
    };
    new LambdaFaultExperiment(stack, "ByTags", {
      description: "tags",
      actions: {
        delay: ExperimentAction.addDelay({ target: LambdaTarget.fromTags({ a: "b" }), duration: "PT5M" }),
      },
      ...common,
    });
    new LambdaFaultExperiment(stack, "ByArn", {
      description: "arn",
      actions: {
        error: ExperimentAction.invocationError({
          target: LambdaTarget.fromFunctions([byArn]),
          duration: "PT5M",
          preventExecution: true,
        }),
      },
      ...common,
    });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    try {
      app.synth();
    } catch {
      // The fixtures' own buckets and function break rules; only ours are checked below.
    }
    const report = JSON.parse(readFileSync(join(app.outdir, "validation-report.json"), "utf8"));
    const violations: Violation[] = report.pluginReports.flatMap(
      (p: { violations: Violation[] }) => p.violations,
    );
    const ours = /^Test\/(Layer|ByTags|ByArn|Fn\/ServiceRole\/DefaultPolicy)\//;
    const found = violations.flatMap((v) =>
      v.violatingConstructs
        .filter((c) => ours.test(c.constructPath))
        .map((c) => `${v.ruleName} ${c.constructPath}`),
    );
    assert.deepEqual(found, []);
    // The check can fail: the fixtures' unacknowledged findings are reported.
    assert.ok(violations.some((v) => v.ruleName === "AwsSolutions-S1"));
    const acknowledged = JSON.stringify(
      stack.node
        .findChild("ByTags")
        .node.findAll()
        .flatMap((c) => c.node.metadata),
    );
    assert.match(acknowledged, /AwsSolutions-IAM5\[Resource::\*\]/);
    assert.match(acknowledged, /tag:GetResources has no resource type/);
  });
});
