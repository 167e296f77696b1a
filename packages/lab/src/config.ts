/**
 * The lab config file: JSON, validated with zod. Errors name the file and the field path
 * (`lab.json: functions[1].timeout: must be a number between 1 and 900`). Paths are relative to the file.
 * Schema documented in docs/lab-config.md.
 */
import { readFileSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { z } from "zod";
import type { ApiSpec } from "./apigateway/index.ts";
import { compileRoute, ROUTE_METHODS } from "./apigateway/routes.ts";
import type { FunctionSpec } from "./contract.ts";
import type { TableSpec } from "./dynamodb.ts";
import { type ConfigIssue, LabConfigError } from "./errors.ts";
import { type AlarmDefinition, validateAlarm } from "./metrics/alarms.ts";

export const SUPPORTED_RUNTIMES = [
  "nodejs18.x",
  "nodejs20.x",
  "nodejs22.x",
  "nodejs24.x",
  "provided.al2023",
  "provided.al2",
] as const;

export const DEFAULT_TIMEOUT_SECONDS = 3;
export const DEFAULT_MEMORY_MB = 128;
export const DEFAULT_IDLE_TIMEOUT_SECONDS = 300;
/** Lambda's account default is 1000; a laptop runs out of memory long before (~45 MB per environment). */
export const DEFAULT_CONCURRENT_EXECUTIONS = 16;

const intBetween = (min: number, max: number) => {
  const message = `must be a number between ${min} and ${max}`;
  return z
    .number({ error: message })
    .int({ error: message })
    .min(min, { error: message })
    .max(max, { error: message });
};
const port = intBetween(0, 65535);
const stringMap = (what: string) =>
  z.record(z.string(), z.string({ error: `${what} values must be strings` }), {
    error: `must be an object of string ${what}`,
  });

const functionSchema = z.strictObject({
  name: z
    .string({ error: "must be a string" })
    .regex(/^[A-Za-z0-9_-]{1,64}$/, { error: "must be 1-64 letters, digits, hyphens or underscores" }),
  runtime: z.enum(SUPPORTED_RUNTIMES, { error: `must be one of ${SUPPORTED_RUNTIMES.join(", ")}` }),
  handler: z.string({ error: "must be a string" }).min(1, { error: "must not be empty" }).max(128),
  code: z.string({ error: "must be a directory path" }).min(1, { error: "must be a directory path" }),
  layers: z
    .array(z.string({ error: "must be a directory or .zip path" }))
    .max(5, { error: "at most 5 layers" })
    .default([]),
  environment: z
    .record(
      z.string().regex(/^[a-zA-Z]\w*$/, { error: "variable names must be letters, digits and underscores" }),
      z.string({ error: "variable values must be strings" }),
      { error: "must be an object of string variables" },
    )
    .default({}),
  tags: stringMap("tag").default({}),
  timeout: intBetween(1, 900).default(DEFAULT_TIMEOUT_SECONDS),
  memorySize: intBetween(128, 10240).default(DEFAULT_MEMORY_MB),
  reservedConcurrency: intBetween(0, 1000).optional(),
  // Lambda's alias rule: letters, digits, - and _, not all digits (that would be a version).
  aliases: z
    .array(
      z.string({ error: "must be an alias name" }).regex(/^(?!\d+$)[a-zA-Z0-9_-]{1,128}$/, {
        error: "must be 1-128 letters, digits, hyphens or underscores, not all digits",
      }),
    )
    .default([]),
});

// API fronts (API Gateway proxy integration) and the local DynamoDB: see docs/lab-config.md.
const apiSchema = z.strictObject({
  name: z
    .string({ error: "must be a string" })
    .regex(/^[A-Za-z0-9_-]{1,64}$/, { error: "must be 1-64 letters, digits, hyphens or underscores" }),
  port: port.default(0),
  payloadFormatVersion: z.enum(["2.0", "1.0"], { error: 'must be "2.0" or "1.0"' }).default("2.0"),
  routes: z
    .array(
      z.strictObject({
        method: z.enum(ROUTE_METHODS, { error: `must be one of ${ROUTE_METHODS.join(", ")}` }),
        path: z.string({ error: "must be a path such as /orders/{id}" }),
        function: z.string({ error: "must be the name of a function of the lab" }),
      }),
      { error: "must be an array of routes" },
    )
    .min(1, { error: "must have at least one route" }),
});
const attributeName = z
  .string({ error: "must be an attribute name" })
  .min(1, { error: "must be an attribute name" })
  .max(255, { error: "must be an attribute name" });
const dynamodbSchema = z.strictObject({
  port: port.default(0),
  tables: z.array(
    z.strictObject({
      name: z
        .string({ error: "must be a string" })
        .regex(/^[A-Za-z0-9_.-]{3,255}$/, { error: "must be 3-255 letters, digits, '_', '-' or '.'" }),
      partitionKey: attributeName,
      sortKey: attributeName.optional(),
    }),
    { error: "must be an array of tables" },
  ),
});

// CloudWatch alarms and dashboards put into the lab's CloudWatch service at start: see docs/lab-config.md.
const COMPARISONS = [
  "GreaterThanOrEqualToThreshold",
  "GreaterThanThreshold",
  "LessThanThreshold",
  "LessThanOrEqualToThreshold",
] as const;
const alarmSchema = z.strictObject({
  name: z
    .string({ error: "must be a string" })
    .min(1, { error: "must be 1-255 characters" })
    .max(255, { error: "must be 1-255 characters" }),
  description: z.string({ error: "must be a string" }).optional(),
  namespace: z.string({ error: "must be a namespace such as AWS/Lambda" }).min(1),
  metricName: z.string({ error: "must be a metric name such as Errors" }).min(1),
  dimensions: stringMap("dimension").default({}),
  statistic: z
    .string({ error: "must be SampleCount, Sum, Average, Minimum, Maximum or a percentile such as p99" })
    .regex(/^(SampleCount|Sum|Average|Minimum|Maximum|p\d{1,2}(\.\d{1,2})?)$/, {
      error: "must be SampleCount, Sum, Average, Minimum, Maximum or a percentile such as p99",
    }),
  period: intBetween(1, 86400),
  evaluationPeriods: intBetween(1, 100),
  datapointsToAlarm: intBetween(1, 100).optional(),
  threshold: z.number({ error: "must be a number" }),
  comparisonOperator: z.enum(COMPARISONS, { error: `must be one of ${COMPARISONS.join(", ")}` }),
  treatMissingData: z
    .enum(["missing", "ignore", "breaching", "notBreaching"], {
      error: "must be missing, ignore, breaching or notBreaching",
    })
    .optional(),
});
const dashboardSchema = z.strictObject({
  name: z
    .string({ error: "must be a string" })
    .regex(/^[A-Za-z0-9_-]{1,255}$/, { error: "must be 1-255 letters, digits, hyphens or underscores" }),
  body: z.record(z.string(), z.unknown(), { error: "must be a CloudWatch dashboard JSON object" }).optional(),
  file: z.string({ error: "must be a path to a dashboard JSON file" }).min(1).optional(),
});

const labSchema = z.strictObject({
  region: z
    .string({ error: "must be a string" })
    .regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, { error: "must be an AWS region such as us-east-1" })
    .default("us-east-1"),
  accountId: z
    .string({ error: "must be a 12-digit string" })
    .regex(/^\d{12}$/, { error: "must be a 12-digit string" })
    .default("123456789012"),
  ports: z
    .strictObject(
      { lambda: port.default(0), s3: port.default(0), fis: port.default(0), cloudwatch: port.default(0) },
      { error: "must be an object" },
    )
    .default({ lambda: 0, s3: 0, fis: 0, cloudwatch: 0 }),
  buckets: z
    .array(
      z
        .string({ error: "must be a string" })
        .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { error: "must be a valid S3 bucket name" }),
      { error: "must be an array of bucket names" },
    )
    .default([]),
  idleTimeoutSeconds: z
    .number({ error: "must be a positive number of seconds" })
    .positive({ error: "must be a positive number of seconds" })
    .default(DEFAULT_IDLE_TIMEOUT_SECONDS),
  concurrentExecutions: intBetween(1, 1000).default(DEFAULT_CONCURRENT_EXECUTIONS),
  functions: z.array(functionSchema, { error: "must be an array of functions" }),
  apis: z.array(apiSchema, { error: "must be an array of APIs" }).default([]),
  dynamodb: dynamodbSchema.optional(),
  alarms: z.array(alarmSchema, { error: "must be an array of alarms" }).default([]),
  dashboards: z.array(dashboardSchema, { error: "must be an array of dashboards" }).default([]),
  allowedHosts: z
    .array(
      z.string({ error: "must be a host name" }).regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/, {
        error: "must be a host name such as lab.internal",
      }),
      { error: "must be an array of host names" },
    )
    .default([]),
});

/** The raw shape of a lab config file (what users write). */
export type LabConfigInput = z.input<typeof labSchema>;

/** A validated lab config: defaults applied, paths absolute, functions as the lab runs them. */
export interface LabConfig {
  /** Absolute path of the file it came from, if any. */
  file?: string;
  region: string;
  accountId: string;
  ports: { lambda: number; s3: number; fis: number; cloudwatch: number };
  buckets: string[];
  idleTimeoutSeconds: number;
  /** Account-wide limit on environments busy at once (Lambda's "Concurrent executions" quota). */
  concurrentExecutions: number;
  functions: FunctionSpec[];
  /** HTTP fronts turning requests into API Gateway proxy events. */
  apis: ApiSpec[];
  /** When present, the lab runs a local DynamoDB with these tables. */
  dynamodb?: { port: number; tables: TableSpec[] };
  /** Alarms (PutMetricAlarm form) put into the lab's CloudWatch at start; ARN arn:aws:cloudwatch:<region>:<account>:alarm:<name>. */
  alarms?: AlarmDefinition[];
  /** Dashboards put into the lab's CloudWatch at start; `body` is the dashboard JSON text. */
  dashboards?: { name: string; body: string }[];
  /**
   * `Host` names every lab server accepts besides loopback ones and the address it listens on (DNS-rebinding
   * defence; see docs/lab-config.md). For labs reached by name on purpose.
   */
  allowedHosts?: string[];
}

/** Reads and validates a lab config file. Throws `LabConfigError` naming the file and field. */
export function loadLabConfig(path: string): LabConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new LabConfigError(path, [
      { field: "", message: `cannot read the file (${(error as Error).message})` },
    ]);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new LabConfigError(path, [{ field: "", message: `not valid JSON (${(error as Error).message})` }]);
  }
  return { ...parseLabConfig(raw, { file: path, baseDir: dirname(resolve(path)) }), file: resolve(path) };
}

/** Validates a config object. `file` names it in errors; relative paths resolve against `baseDir`. */
export function parseLabConfig(raw: unknown, source: { file: string; baseDir: string }): LabConfig {
  const cfg = checkSchema(raw, source.file);
  // Every check below adds to `issues`, so one error lists every problem, in file order.
  const issues: ConfigIssue[] = [];
  const { functions, functionNames } = buildFunctions(cfg, source.baseDir, issues);
  const apis = buildApis(cfg.apis, functionNames, issues);
  const alarms = buildAlarms(cfg.alarms, issues);
  const dashboards = buildDashboards(cfg.dashboards, source.baseDir, issues);
  if (issues.length > 0) throw new LabConfigError(source.file, issues);
  return {
    alarms,
    dashboards,
    apis,
    ...(cfg.dynamodb ? { dynamodb: buildDynamoDb(cfg.dynamodb) } : {}),
    region: cfg.region,
    accountId: cfg.accountId,
    ports: cfg.ports,
    ...(cfg.allowedHosts.length > 0 ? { allowedHosts: cfg.allowedHosts } : {}),
    buckets: cfg.buckets,
    idleTimeoutSeconds: cfg.idleTimeoutSeconds,
    concurrentExecutions: cfg.concurrentExecutions,
    functions,
  };
}

/** A config file after the schema: defaults applied, nothing cross-checked yet. */
type ParsedLab = z.output<typeof labSchema>;

function checkSchema(raw: unknown, file: string): ParsedLab {
  const parsed = labSchema.safeParse(raw);
  if (!parsed.success) {
    throw new LabConfigError(
      file,
      parsed.error.issues.map((issue) => ({ field: formatPath(issue.path), message: issue.message })),
    );
  }
  return parsed.data;
}

/** Functions as the lab runs them; `functionNames` maps each name to its index for later cross-checks. */
function buildFunctions(
  cfg: ParsedLab,
  baseDir: string,
  issues: ConfigIssue[],
): { functions: FunctionSpec[]; functionNames: Map<string, number> } {
  const seen = new Map<string, number>();
  const functions = cfg.functions.map((fn, i): FunctionSpec => {
    const at = `functions[${i}]`;
    const previous = seen.get(fn.name);
    if (previous !== undefined) {
      issues.push({
        field: `${at}.name`,
        message: `duplicate function name "${fn.name}" (also functions[${previous}])`,
      });
    }
    seen.set(fn.name, i);
    const codeDir = resolve(baseDir, fn.code);
    if (kindOf(codeDir) !== "dir")
      issues.push({ field: `${at}.code`, message: `not a directory: ${codeDir}` });
    const layers = fn.layers.map((layer, j) => resolveLayer(layer, baseDir, `${at}.layers[${j}]`, issues));
    const spec: FunctionSpec = {
      name: fn.name,
      arn: `arn:aws:lambda:${cfg.region}:${cfg.accountId}:function:${fn.name}`,
      region: cfg.region,
      accountId: cfg.accountId,
      runtime: fn.runtime,
      handler: fn.handler,
      codeDir,
      layers,
      environment: fn.environment,
      tags: fn.tags,
      timeoutSeconds: fn.timeout,
      memorySizeMb: fn.memorySize,
    };
    if (fn.reservedConcurrency !== undefined) spec.reservedConcurrency = fn.reservedConcurrency;
    if (fn.aliases.length > 0) spec.aliases = [...new Set(fn.aliases)];
    return spec;
  });
  return { functions, functionNames: seen };
}

function resolveLayer(layer: string, baseDir: string, field: string, issues: ConfigIssue[]): string {
  const path = resolve(baseDir, layer);
  const kind = kindOf(path);
  if (kind !== "dir" && !(kind === "file" && path.endsWith(".zip"))) {
    issues.push({ field, message: `not a directory or .zip file: ${path}` });
  }
  return path;
}

function buildApis(
  apis: ParsedLab["apis"],
  functionNames: ReadonlyMap<string, number>,
  issues: ConfigIssue[],
): ApiSpec[] {
  const apiNames = new Set<string>();
  return apis.map((api, i): ApiSpec => {
    if (apiNames.has(api.name))
      issues.push({ field: `apis[${i}].name`, message: `duplicate API name "${api.name}"` });
    apiNames.add(api.name);
    api.routes.forEach((route, j) => {
      const at = `apis[${i}].routes[${j}]`;
      if (!functionNames.has(route.function)) {
        issues.push({
          field: `${at}.function`,
          message: `no function named "${route.function}" in functions`,
        });
      }
      try {
        compileRoute(route);
      } catch (error) {
        issues.push({ field: `${at}.path`, message: (error as Error).message });
      }
    });
    return {
      name: api.name,
      port: api.port,
      payloadFormatVersion: api.payloadFormatVersion,
      routes: api.routes,
    };
  });
}

/** Alarms in PutMetricAlarm form, checked as PutMetricAlarm would check them. */
function buildAlarms(alarms: ParsedLab["alarms"], issues: ConfigIssue[]): AlarmDefinition[] {
  return alarms.map((a, i): AlarmDefinition => {
    const definition = toAlarmDefinition(a);
    if (alarms.findIndex((b) => b.name === a.name) !== i) {
      issues.push({ field: `alarms[${i}].name`, message: `duplicate alarm name "${a.name}"` });
    }
    try {
      validateAlarm(definition);
    } catch (error) {
      issues.push({ field: `alarms[${i}]`, message: (error as Error).message });
    }
    return definition;
  });
}

function toAlarmDefinition(a: ParsedLab["alarms"][number]): AlarmDefinition {
  return {
    AlarmName: a.name,
    ...(a.description ? { AlarmDescription: a.description } : {}),
    Namespace: a.namespace,
    MetricName: a.metricName,
    Dimensions: Object.entries(a.dimensions).map(([Name, Value]) => ({ Name, Value })),
    ...(a.statistic.startsWith("p") ? { ExtendedStatistic: a.statistic } : { Statistic: a.statistic }),
    Period: a.period,
    EvaluationPeriods: a.evaluationPeriods,
    ...(a.datapointsToAlarm ? { DatapointsToAlarm: a.datapointsToAlarm } : {}),
    Threshold: a.threshold,
    ComparisonOperator: a.comparisonOperator,
    ...(a.treatMissingData ? { TreatMissingData: a.treatMissingData } : {}),
  };
}

/** Dashboards with their JSON text, from `body` or read from `file`. */
function buildDashboards(
  dashboards: ParsedLab["dashboards"],
  baseDir: string,
  issues: ConfigIssue[],
): { name: string; body: string }[] {
  return dashboards.map((d, i) => {
    const at = `dashboards[${i}]`;
    if ((d.body === undefined) === (d.file === undefined)) {
      issues.push({ field: at, message: "needs exactly one of body and file" });
      return { name: d.name, body: "{}" };
    }
    let body: unknown = d.body;
    if (d.file !== undefined) {
      const path = resolve(baseDir, d.file);
      try {
        body = JSON.parse(readFileSync(path, "utf8"));
      } catch (error) {
        issues.push({
          field: `${at}.file`,
          message: `cannot read dashboard JSON ${path} (${(error as Error).message})`,
        });
      }
    }
    if (body !== undefined && !Array.isArray((body as { widgets?: unknown }).widgets)) {
      issues.push({ field: d.file ? `${at}.file` : `${at}.body`, message: "must have a widgets array" });
    }
    return { name: d.name, body: JSON.stringify(body ?? {}) };
  });
}

function buildDynamoDb(dynamodb: NonNullable<ParsedLab["dynamodb"]>): NonNullable<LabConfig["dynamodb"]> {
  return {
    port: dynamodb.port,
    tables: dynamodb.tables.map((t) => ({
      name: t.name,
      partitionKey: t.partitionKey,
      ...(t.sortKey ? { sortKey: t.sortKey } : {}),
    })),
  };
}

/** `["functions", 1, "timeout"]` → `functions[1].timeout`. */
function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}

function kindOf(path: string): "dir" | "file" | "missing" {
  try {
    const st = statSync(path);
    return st.isDirectory() ? "dir" : "file";
  } catch {
    return "missing";
  }
}
