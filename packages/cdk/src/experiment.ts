import { Stack } from "aws-cdk-lib";
import type { Dashboard, IAlarm } from "aws-cdk-lib/aws-cloudwatch";
import { CfnExperimentTemplate, type CfnExperimentTemplateProps } from "aws-cdk-lib/aws-fis";
import { Role, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import type { ILogGroup } from "aws-cdk-lib/aws-logs";
import type { IBucket } from "aws-cdk-lib/aws-s3";
import { Construct } from "constructs";
import { type DurationLike, type ExperimentAction, isoDuration, type LambdaTarget } from "./actions.ts";
import { cdkPropsFromFisTemplate } from "./cloudformation.ts";
import { FaultlinePropsError } from "./errors.ts";
import { dashboardArn, roleStatements } from "./experiment-role.ts";
import { acknowledgeWildcards, type Wildcard } from "./nag.ts";
import { validateTemplate } from "./validation.ts";

export interface ExperimentReportProps {
  bucket: IBucket;
  prefix?: string;
  /** Dashboards whose widgets the report captures (Dashboard constructs or dashboard ARNs). */
  dashboards?: (Dashboard | string)[];
  /** Default PT20M (FIS); faultline's engine takes PT1S–PT30M. */
  preExperimentDuration?: DurationLike;
  postExperimentDuration?: DurationLike;
}

export interface LambdaFaultExperimentProps {
  description: string;
  /** By name, as in the template (`startAfter` refers to these names). */
  actions: Record<string, ExperimentAction>;
  /** Where fault objects are written: the bucket and prefix the functions were enabled with. */
  configBucket?: IBucket;
  /** Default `FisConfigs/`. */
  configPrefix?: string;
  /** The experiment stops when any of these alarms goes to ALARM. None: `{ source: "none" }`. */
  stopConditions?: IAlarm[];
  report?: ExperimentReportProps;
  /** Deliver the experiment log (schema 2) to this log group. */
  logGroup?: ILogGroup;
  emptyTargetResolutionMode?: "fail" | "skip";
  /** Tags of the template (`Name` shows in the FIS console). */
  tags?: Record<string, string>;
}

/**
 * An AWS::FIS::ExperimentTemplate for Lambda faults and the experiment role with exactly the permissions that
 * template needs. The props are checked with the faultline engine's rules while the app is built.
 */
export class LambdaFaultExperiment extends Construct {
  readonly role: Role;
  readonly template: CfnExperimentTemplate;
  /** The template as the FIS API takes it (tokens where CDK resolves values at deploy time). */
  readonly fisTemplate: Record<string, unknown>;

  constructor(scope: Construct, id: string, props: LambdaFaultExperimentProps) {
    super(scope, id);
    const where = `LambdaFaultExperiment ${this.node.path}`;
    const stack = Stack.of(this);
    this.role = new Role(this, "Role", {
      assumedBy: new ServicePrincipal("fis.amazonaws.com", {
        conditions: {
          // Confused-deputy protection: only this account's FIS experiments may assume the role.
          StringEquals: { "aws:SourceAccount": stack.account },
          ArnLike: {
            "aws:SourceArn": `arn:${stack.partition}:fis:${stack.region}:${stack.account}:experiment/*`,
          },
        },
      }),
      description: `FIS experiment role for ${this.node.path}`,
    });
    this.fisTemplate = templateBody(props, this.role.roleArn);
    validateTemplate(where, this.fisTemplate);
    const lambdaActions = Object.values(props.actions).filter((a) => a.target !== undefined);
    if (lambdaActions.length > 0 && !props.configBucket) {
      throw new FaultlinePropsError(
        where,
        "configBucket",
        "is required: Lambda actions write fault objects there",
      );
    }
    const grants = roleStatements(this, props, lambdaActions);
    for (const statement of grants.statements) this.role.addToPolicy(statement);
    acknowledgeWildcards(this.role, dedupe(grants.wildcards));
    if (props.configBucket && lambdaActions.length > 0)
      props.configBucket.encryptionKey?.grantEncryptDecrypt(this.role);
    props.report?.bucket.encryptionKey?.grantEncrypt(this.role);
    this.template = new CfnExperimentTemplate(
      this,
      "Resource",
      cdkPropsFromFisTemplate(this.fisTemplate) as unknown as CfnExperimentTemplateProps,
    );
    // FIS checks the role when an experiment starts: its policy must exist by then.
    this.template.node.addDependency(this.role);
  }

  /** The template's id (EXT…), for `aws fis start-experiment --experiment-template-id`. */
  get experimentTemplateId(): string {
    return this.template.attrId;
  }
}

/** The template in FIS API casing: targets named once each, actions pointing at them. */
function templateBody(props: LambdaFaultExperimentProps, roleArn: string): Record<string, unknown> {
  const targetNames = new Map<LambdaTarget, string>();
  const targets: Record<string, unknown> = {};
  for (const action of Object.values(props.actions)) {
    const target = action.target;
    if (!target || targetNames.has(target)) continue;
    let name = target.options.name ?? "Functions";
    for (let n = 2; name in targets; n++) name = `${target.options.name ?? "Functions"}${n}`;
    targetNames.set(target, name);
    targets[name] = target.toTemplate();
  }
  const actions = Object.fromEntries(
    Object.entries(props.actions).map(([name, a]) => [
      name,
      a.toTemplate(a.target && targetNames.get(a.target)),
    ]),
  );
  const stopConditions = props.stopConditions?.length
    ? props.stopConditions.map((alarm) => ({ source: "aws:cloudwatch:alarm", value: alarm.alarmArn }))
    : [{ source: "none" }];
  return {
    description: props.description,
    roleArn,
    targets,
    actions,
    stopConditions,
    ...(props.logGroup
      ? {
          logConfiguration: {
            cloudWatchLogsConfiguration: { logGroupArn: props.logGroup.logGroupArn },
            logSchemaVersion: 2,
          },
        }
      : {}),
    experimentOptions: {
      accountTargeting: "single-account",
      emptyTargetResolutionMode: props.emptyTargetResolutionMode ?? "fail",
    },
    ...(props.report ? { experimentReportConfiguration: reportConfiguration(props.report) } : {}),
    ...(props.tags ? { tags: { ...props.tags } } : {}),
  };
}

function reportConfiguration(report: ExperimentReportProps): Record<string, unknown> {
  const dashboards = (report.dashboards ?? []).map((d) => ({ dashboardIdentifier: dashboardArn(d) }));
  return {
    outputs: {
      s3Configuration: {
        bucketName: report.bucket.bucketName,
        ...(report.prefix ? { prefix: report.prefix } : {}),
      },
    },
    ...(dashboards.length > 0 ? { dataSources: { cloudWatchDashboards: dashboards } } : {}),
    ...(report.preExperimentDuration
      ? { preExperimentDuration: isoDuration(report.preExperimentDuration) }
      : {}),
    ...(report.postExperimentDuration
      ? { postExperimentDuration: isoDuration(report.postExperimentDuration) }
      : {}),
  };
}

/** One acknowledgment per resource, with every reason given for it. */
function dedupe(wildcards: readonly Wildcard[]): Wildcard[] {
  const reasons = new Map<string, string[]>();
  for (const w of wildcards) reasons.set(w.resource, [...(reasons.get(w.resource) ?? []), w.reason]);
  return [...reasons].map(([resource, r]) => ({ resource, reason: [...new Set(r)].join("; ") }));
}
