/**
 * The experiment role's statements, read off the template: only what its actions, report and log delivery
 * need (the FIS docs' lists). Stop-condition alarms are read by FIS's service-linked role
 * (AmazonFISServiceRolePolicy), not by this role, so they add nothing here.
 */

import { normalisePrefix } from "@faultline/rules";
import { Stack, Token } from "aws-cdk-lib";
import type { CfnDashboard, Dashboard } from "aws-cdk-lib/aws-cloudwatch";
import { PolicyStatement } from "aws-cdk-lib/aws-iam";
import type { IBucket } from "aws-cdk-lib/aws-s3";
import type { Construct } from "constructs";
import type { ExperimentAction } from "./actions.ts";
import type { ExperimentReportProps, LambdaFaultExperimentProps } from "./experiment.ts";
import type { Wildcard } from "./nag.ts";

export interface RoleGrants {
  statements: PolicyStatement[];
  /** The wildcard resources among them, each with why it cannot be narrower. */
  wildcards: Wildcard[];
}

export function roleStatements(
  scope: Construct,
  props: LambdaFaultExperimentProps,
  lambdaActions: readonly ExperimentAction[],
): RoleGrants {
  const parts = [
    lambdaActions.length > 0 && props.configBucket
      ? faultGrants(Stack.of(scope), props.configBucket, props.configPrefix, lambdaActions)
      : undefined,
    props.report ? reportGrants(props.report) : undefined,
    props.logGroup ? logDeliveryGrants() : undefined,
  ].filter((part) => part !== undefined);
  return {
    statements: parts.flatMap((p) => p.statements),
    wildcards: parts.flatMap((p) => p.wildcards),
  };
}

/** FIS Lambda actions (D-ACT): write and remove fault objects, read each function's configuration, resolve tags. */
function faultGrants(
  stack: Stack,
  configBucket: IBucket,
  configPrefix: string | undefined,
  lambdaActions: readonly ExperimentAction[],
): RoleGrants {
  const faultObjects = configBucket.arnForObjects(`${normalisePrefix(configPrefix)}*`);
  const functions = functionResources(stack, lambdaActions);
  return {
    statements: [
      new PolicyStatement({
        sid: "WriteFaultObjects",
        actions: ["s3:PutObject", "s3:DeleteObject"],
        resources: [faultObjects],
      }),
      new PolicyStatement({
        sid: "ReadTargetFunctions",
        actions: ["lambda:GetFunction"],
        resources: functions,
      }),
      new PolicyStatement({ sid: "ResolveTargetTags", actions: ["tag:GetResources"], resources: ["*"] }),
    ],
    wildcards: [
      {
        resource: faultObjects,
        reason: "FIS writes one fault object per function and action under the prefix",
      },
      { resource: "*", reason: "tag:GetResources has no resource type" },
      ...functions
        .filter((f) => f.endsWith("*"))
        .map((resource) => ({
          resource,
          reason:
            "Tag- or filter-selected targets are resolved when an experiment starts; ARN targets' versions and aliases",
        })),
    ],
  };
}

/**
 * A dashboard's ARN. CDK's Dashboard.dashboardArn is built from the dashboardName prop, so it ends in
 * "dashboard/" when the dashboard is left unnamed: its name is then the one CloudFormation gives it (its Ref).
 * A literal name keeps CDK's ARN (literal, so the round trip to faultline's API can resolve it).
 */
export function dashboardArn(d: Dashboard | string): string {
  if (typeof d === "string") return d;
  const given = (d.node.defaultChild as CfnDashboard | undefined)?.dashboardName;
  if (given !== undefined && !Token.isUnresolved(given)) return d.dashboardArn;
  return Stack.of(d).formatArn({
    service: "cloudwatch",
    region: "",
    resource: "dashboard",
    resourceName: d.dashboardName,
  });
}

/** Experiment reports: the report objects, the widget images, the dashboards they show. */
function reportGrants(report: ExperimentReportProps): RoleGrants {
  const prefix = report.prefix ? `${report.prefix.replace(/\/+$/, "")}/*` : "*";
  const reports = report.bucket.arnForObjects(prefix);
  const dashboards = (report.dashboards ?? []).map(dashboardArn);
  return {
    statements: [
      new PolicyStatement({
        sid: "WriteReports",
        actions: ["s3:PutObject", "s3:GetObject"],
        resources: [reports],
      }),
      // GetMetricWidgetImage has no resource type: it can only be granted on "*".
      new PolicyStatement({
        sid: "RenderReportWidgets",
        actions: ["cloudwatch:GetMetricWidgetImage"],
        resources: ["*"],
      }),
      ...(dashboards.length > 0
        ? [
            new PolicyStatement({
              sid: "ReadReportDashboards",
              actions: ["cloudwatch:GetDashboard"],
              resources: dashboards,
            }),
          ]
        : []),
    ],
    wildcards: [
      {
        resource: reports,
        reason: "FIS writes the report and one image per dashboard widget under the prefix",
      },
      { resource: "*", reason: "cloudwatch:GetMetricWidgetImage has no resource type" },
    ],
  };
}

/** Vended-log delivery to CloudWatch Logs (the FIS logging docs point to CloudWatch Logs' list); no resource types. */
const logDeliveryGrants = (): RoleGrants => ({
  statements: [
    new PolicyStatement({
      sid: "DeliverExperimentLogs",
      actions: [
        "logs:CreateLogDelivery",
        "logs:PutResourcePolicy",
        "logs:DescribeResourcePolicies",
        "logs:DescribeLogGroups",
      ],
      resources: ["*"],
    }),
  ],
  wildcards: [{ resource: "*", reason: "CloudWatch Logs' log-delivery actions have no resource type" }],
});

/**
 * ARN-selected targets: those functions, unqualified and any version or alias. Tag- or filter-selected: every
 * function of this account and Region (FIS resolves them when an experiment starts).
 */
function functionResources(stack: Stack, actions: readonly ExperimentAction[]): string[] {
  const resources = new Set<string>();
  for (const action of actions) {
    const arns = action.target?.selection.resourceArns;
    if (!arns) {
      return [`arn:${stack.partition}:lambda:${stack.region}:${stack.account}:function:*`];
    }
    for (const arn of arns) {
      resources.add(arn);
      resources.add(`${arn}:*`);
    }
  }
  return [...resources];
}
