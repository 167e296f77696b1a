/**
 * Least-privilege IAM policies: what a function's role needs to read fault objects (FIS's documented policy), and
 * what the engine's own role needs — every AWS call the engine and its reports make, one row each. A test records
 * the calls an engine actually sends and compares them with ENGINE_CALLS (packages/engine/test/iam.test.ts).
 */

export interface EngineCall {
  /** The SDK command, without `Command`, as the SDK's middleware context names it. */
  command: string;
  /** The IAM action that authorises it. */
  action: string;
  /** Which resource the statement names. */
  resource: "functions" | "layers" | "any" | "faults" | "logs" | "reports" | "alarms" | "dashboards";
  why: string;
}

export const ENGINE_CALLS: readonly EngineCall[] = [
  { command: "GetFunction", action: "lambda:GetFunction", resource: "functions", why: "resolve ARN targets" },
  {
    command: "ListFunctions",
    action: "lambda:ListFunctions",
    resource: "any",
    why: "resolve tag/filter targets",
  },
  {
    command: "ListTags",
    action: "lambda:ListTags",
    resource: "functions",
    why: "tags when tag:GetResources is unavailable",
  },
  {
    command: "GetResources",
    action: "tag:GetResources",
    resource: "any",
    why: "tag-selected targets in one paged call",
  },
  {
    command: "GetLayerVersionByArn",
    action: "lambda:GetLayerVersion",
    resource: "layers",
    why: "readiness: read faultline/VERSION in the layer",
  },
  {
    command: "PutObject",
    action: "s3:PutObject",
    resource: "faults",
    why: "write fault objects (also logs and reports)",
  },
  { command: "DeleteObject", action: "s3:DeleteObject", resource: "faults", why: "remove fault objects" },
  { command: "DescribeAlarms", action: "cloudwatch:DescribeAlarms", resource: "any", why: "stop conditions" },
  {
    command: "GetMetricData",
    action: "cloudwatch:GetMetricData",
    resource: "any",
    why: "experiment reports",
  },
  {
    command: "GetDashboard",
    action: "cloudwatch:GetDashboard",
    resource: "dashboards",
    why: "experiment reports",
  },
];

export interface PolicyOptions {
  bucket: string;
  /** Where fault objects live; default `FisConfigs/`, as the FIS docs use. */
  prefix?: string;
  /** Where experiment reports are uploaded (experimentReportConfiguration.outputs.s3Configuration). */
  reportBucket?: string;
  /** Where experiment logs are delivered (logConfiguration.s3Configuration). */
  logBucket?: string;
  partition?: string;
}

export interface PolicyDocument {
  Version: "2012-10-17";
  Statement: Array<{
    Sid: string;
    Effect: "Allow";
    Action: string | string[];
    Resource: string | string[];
    Condition?: Record<string, Record<string, string[]>>;
  }>;
}

/** `FisConfigs` → `FisConfigs/`; empty stays empty (the whole bucket). */
export function normalisePrefix(prefix: string | undefined): string {
  const p = (prefix ?? "FisConfigs/").replace(/^\/+/, "");
  return p === "" || p.endsWith("/") ? p : `${p}/`;
}

/** The function role: list the prefix, read its objects — the FIS docs' Lambda read policy. */
export function functionPolicy(options: PolicyOptions): PolicyDocument {
  const s3 = `arn:${options.partition ?? "aws"}:s3:::`;
  const prefix = normalisePrefix(options.prefix);
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "ListFaultObjects",
        Effect: "Allow",
        Action: "s3:ListBucket",
        Resource: `${s3}${options.bucket}`,
        Condition: { StringLike: { "s3:prefix": [`${prefix}*`] } },
      },
      {
        Sid: "ReadFaultObjects",
        Effect: "Allow",
        Action: "s3:GetObject",
        Resource: `${s3}${options.bucket}/${prefix}*`,
      },
    ],
  };
}

/** The engine's role: exactly ENGINE_CALLS, each on the narrowest resource it can name. */
export function enginePolicy(options: PolicyOptions): PolicyDocument {
  const partition = options.partition ?? "aws";
  const s3 = `arn:${partition}:s3:::`;
  const faults = `${s3}${options.bucket}/${normalisePrefix(options.prefix)}*`;
  const actions = (kinds: EngineCall["resource"][]) =>
    [...new Set(ENGINE_CALLS.filter((c) => kinds.includes(c.resource)).map((c) => c.action))].sort();
  const objects = [faults];
  if (options.logBucket) objects.push(`${s3}${options.logBucket}/*`);
  if (options.reportBucket) objects.push(`${s3}${options.reportBucket}/*`);
  return {
    Version: "2012-10-17",
    Statement: [
      { Sid: "AccountWideReads", Effect: "Allow", Action: actions(["any"]), Resource: "*" },
      {
        Sid: "ReadFunctions",
        Effect: "Allow",
        Action: actions(["functions"]),
        Resource: `arn:${partition}:lambda:*:*:function:*`,
      },
      {
        Sid: "ReadLayerVersions",
        Effect: "Allow",
        Action: actions(["layers"]),
        Resource: `arn:${partition}:lambda:*:*:layer:*:*`,
      },
      {
        Sid: "ReadDashboards",
        Effect: "Allow",
        Action: actions(["dashboards"]),
        Resource: `arn:${partition}:cloudwatch::*:dashboard/*`,
      },
      {
        Sid: "WriteFaultObjects",
        Effect: "Allow",
        Action: ["s3:DeleteObject", "s3:PutObject"],
        Resource: faults,
      },
      ...(objects.length > 1
        ? [
            {
              Sid: "DeliverLogsAndReports",
              Effect: "Allow" as const,
              Action: "s3:PutObject",
              Resource: objects.slice(1),
            },
          ]
        : []),
    ],
  };
}
