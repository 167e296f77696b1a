import { type FaultActionId, FaultConfigError, faultActionFromFisParameters } from "@faultline/protocol";
import { z } from "zod";
import { type EngineAction, engineAction, SUPPORTED_ACTION_IDS } from "./catalog.ts";
import { formatDurationMs, parseDurationMs } from "./duration.ts";
import { ServiceQuotaExceededException, ValidationException } from "./errors.ts";
import type { TemplateAction, TemplateBody, TemplateTarget } from "./model.ts";
import { QUOTAS } from "./quotas.ts";
import { shape, str, stringMap, tagMap, token } from "./shapes.ts";

/** FIS documents no bounds for the report windows (see docs/engine.md); faultline takes 1 s to 30 min. */
export const REPORT_WINDOW_MAX_MS = 30 * 60_000;

export const LAMBDA_RESOURCE_TYPE = "aws:lambda:function";
export const LAMBDA_TARGET_KEY = "Functions";

const FUNCTION_ARN = /^arn:[a-z-]+:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9$_-]+)?$/;
const ROLE_ARN = /^arn:[a-z-]+:iam::\d{12}:role\/[\w+=,.@/-]+$/;
const ALARM_ARN = /^arn:[a-z-]+:cloudwatch:[a-z0-9-]+:\d{12}:alarm:.+$/;
const QUALIFIER = /^[\p{L}\p{Z}\p{N}_.:/=+\-@$]+$/u;
const SELECTION = /^(ALL|COUNT\((\d+)\)|PERCENT\((\d+)\))$/;

const targetSchema = z.strictObject(
  {
    resourceType: token(128),
    resourceArns: z.array(token(2048, 20), { error: "must be a list of ARNs" }).optional(),
    resourceTags: tagMap.optional(),
    filters: z
      .array(
        z.strictObject({
          path: token(256),
          values: z.array(token(128), { error: "must be a list of strings" }),
        }),
        { error: "must be a list of {path, values}" },
      )
      .optional(),
    selectionMode: token(64),
    parameters: stringMap(token(64), str(1, 1024)).optional(),
  },
  { error: "must be an object" },
);

const actionSchema = z.strictObject(
  {
    actionId: token(128),
    description: str(1, 512).optional(),
    parameters: stringMap(token(64), token(1024)).optional(),
    targets: stringMap(token(64), token(64)).optional(),
    startAfter: z.array(token(64), { error: "must be a list of action names" }).optional(),
  },
  { error: "must be an object" },
);

const stopConditionSchema = z.strictObject(
  { source: token(64), value: str(20, 2048).optional() },
  { error: "must be an object" },
);

const logConfigurationSchema = z.strictObject({
  cloudWatchLogsConfiguration: z.strictObject({ logGroupArn: token(2048, 20) }).optional(),
  s3Configuration: z.strictObject({ bucketName: token(63, 3), prefix: str(1, 700).optional() }).optional(),
  logSchemaVersion: z.number({ error: "is required and must be a number" }).int(),
});

const reportConfigurationSchema = z.strictObject(
  {
    outputs: z
      .strictObject({
        s3Configuration: z
          .strictObject({ bucketName: token(63, 3), prefix: token(256).optional() })
          .optional(),
      })
      .optional(),
    dataSources: z
      .strictObject({
        cloudWatchDashboards: z
          .array(z.strictObject({ dashboardIdentifier: token(512) }), {
            error: "must be a list of {dashboardIdentifier}",
          })
          .max(QUOTAS.reportDashboards, `at most ${QUOTAS.reportDashboards} dashboards`)
          .optional(),
      })
      .optional(),
    preExperimentDuration: token(32).optional(),
    postExperimentDuration: token(32).optional(),
  },
  { error: "must be an object" },
);

const optionsSchema = z.strictObject({
  accountTargeting: z.enum(["single-account", "multi-account"]).optional(),
  emptyTargetResolutionMode: z.enum(["fail", "skip"]).optional(),
});

const createSchema = z.strictObject(
  {
    clientToken: token(1024).optional(),
    description: str(1, 512),
    targets: z.record(token(64), targetSchema, { error: "must be an object" }).optional(),
    actions: z.record(token(64), actionSchema, { error: "must be an object" }),
    stopConditions: z.array(stopConditionSchema, { error: "must be a list" }),
    roleArn: token(2048, 20),
    tags: tagMap.optional(),
    logConfiguration: logConfigurationSchema.optional(),
    experimentOptions: optionsSchema.optional(),
    experimentReportConfiguration: reportConfigurationSchema.optional(),
  },
  { error: "the request body must be a JSON object" },
);

const updateSchema = createSchema
  .omit({ clientToken: true, tags: true })
  .partial()
  .extend({
    experimentOptions: z
      .strictObject({ emptyTargetResolutionMode: z.enum(["fail", "skip"]).optional() })
      .optional(),
  });

export type CreateTemplateInput = z.input<typeof createSchema>;
export type UpdateTemplateInput = z.input<typeof updateSchema>;

/** Validates a CreateExperimentTemplate body. Pure: no I/O. */
export function validateCreateTemplate(input: unknown): {
  body: TemplateBody;
  tags: Record<string, string>;
  clientToken?: string;
} {
  const raw = shape(createSchema, input);
  const body = checkBody({
    description: raw.description,
    roleArn: raw.roleArn,
    targets: raw.targets ?? {},
    actions: raw.actions,
    stopConditions: raw.stopConditions,
    logConfiguration: raw.logConfiguration,
    experimentOptions: {
      accountTargeting: raw.experimentOptions?.accountTargeting ?? "single-account",
      emptyTargetResolutionMode: raw.experimentOptions?.emptyTargetResolutionMode ?? "fail",
    },
    experimentReportConfiguration: raw.experimentReportConfiguration,
  });
  return { body, tags: raw.tags ?? {}, ...(raw.clientToken ? { clientToken: raw.clientToken } : {}) };
}

/** Validates an UpdateExperimentTemplate body against the current template; given fields replace old ones. */
export function validateUpdateTemplate(current: TemplateBody, input: unknown): TemplateBody {
  const raw = shape(updateSchema, input);
  return checkBody({
    description: raw.description ?? current.description,
    roleArn: raw.roleArn ?? current.roleArn,
    targets: raw.targets ?? current.targets,
    actions: raw.actions ?? current.actions,
    stopConditions: raw.stopConditions ?? current.stopConditions,
    logConfiguration: raw.logConfiguration ?? current.logConfiguration,
    experimentOptions: {
      accountTargeting: current.experimentOptions.accountTargeting,
      emptyTargetResolutionMode:
        raw.experimentOptions?.emptyTargetResolutionMode ??
        current.experimentOptions.emptyTargetResolutionMode,
    },
    experimentReportConfiguration: raw.experimentReportConfiguration ?? current.experimentReportConfiguration,
  });
}

/** The rules zod cannot express: cross-references, the DAG, FIS parameter ranges, quotas. */
function checkBody(body: TemplateBody): TemplateBody {
  if (!ROLE_ARN.test(body.roleArn)) {
    throw new ValidationException("roleArn", `"${body.roleArn}" is not an IAM role ARN`);
  }
  if (body.experimentOptions.accountTargeting !== "single-account") {
    throw new ValidationException(
      "experimentOptions.accountTargeting",
      "multi-account is not supported by faultline; use single-account",
    );
  }
  if (body.experimentReportConfiguration) {
    const r = body.experimentReportConfiguration;
    for (const field of ["preExperimentDuration", "postExperimentDuration"] as const) {
      const text = r[field];
      if (text === undefined) continue;
      const path = `experimentReportConfiguration.${field}`;
      const ms = parseDurationMs(text, path);
      if (ms < 1000 || ms > REPORT_WINDOW_MAX_MS) {
        throw new ValidationException(path, `"${text}" must be between PT1S and PT30M`);
      }
    }
  }
  if (body.logConfiguration) {
    const log = body.logConfiguration;
    if (log.logSchemaVersion !== 1 && log.logSchemaVersion !== 2) {
      throw new ValidationException("logConfiguration.logSchemaVersion", "must be 1 or 2");
    }
    if (!log.cloudWatchLogsConfiguration && !log.s3Configuration) {
      throw new ValidationException(
        "logConfiguration",
        "needs cloudWatchLogsConfiguration or s3Configuration",
      );
    }
  }
  for (const [name, target] of Object.entries(body.targets)) checkTarget(`targets.${name}`, target);
  checkStopConditions(body);
  const actionNames = Object.keys(body.actions);
  if (actionNames.length === 0) throw new ValidationException("actions", "at least one action is required");
  if (actionNames.length > QUOTAS.actionsPerTemplate) {
    throw new ServiceQuotaExceededException(
      `actions: ${actionNames.length} actions exceed the quota of ${QUOTAS.actionsPerTemplate} per template`,
    );
  }
  for (const [name, action] of Object.entries(body.actions)) checkAction(name, action, body.targets);
  checkDag(body.actions);
  checkExperimentDuration(body.actions);
  return body;
}

function checkTarget(field: string, t: TemplateTarget): void {
  if (t.resourceType !== LAMBDA_RESOURCE_TYPE) {
    throw new ValidationException(
      `${field}.resourceType`,
      `"${t.resourceType}" is not supported by faultline (supported: ${LAMBDA_RESOURCE_TYPE})`,
    );
  }
  const arns = t.resourceArns ?? [];
  const byArn = arns.length > 0;
  const byTags = t.resourceTags !== undefined && Object.keys(t.resourceTags).length > 0;
  const byFilters = t.filters !== undefined && t.filters.length > 0;
  if (byArn && (byTags || byFilters)) {
    throw new ValidationException(
      `${field}.resourceArns`,
      "cannot be combined with resourceTags or filters; identify targets one way",
    );
  }
  if (!byArn && !byTags && !byFilters) {
    throw new ValidationException(field, "needs resourceArns, resourceTags or filters");
  }
  if (arns.length > QUOTAS.resourceArnsPerTarget) {
    throw new ValidationException(
      `${field}.resourceArns`,
      `at most ${QUOTAS.resourceArnsPerTarget} ARNs, got ${arns.length}`,
    );
  }
  arns.forEach((arn, i) => {
    if (!FUNCTION_ARN.test(arn)) {
      throw new ValidationException(`${field}.resourceArns.${i}`, `"${arn}" is not a Lambda function ARN`);
    }
  });
  t.filters?.forEach((f, i) => {
    if (!/^[A-Z][A-Za-z0-9]*(\.[A-Z][A-Za-z0-9]*)*$/.test(f.path)) {
      throw new ValidationException(
        `${field}.filters.${i}.path`,
        `"${f.path}" must be a dotted PascalCase path into ListFunctions output, such as Runtime or Architectures`,
      );
    }
    if (f.values.length === 0)
      throw new ValidationException(`${field}.filters.${i}.values`, "must not be empty");
  });
  const m = SELECTION.exec(t.selectionMode);
  if (!m) {
    throw new ValidationException(
      `${field}.selectionMode`,
      `"${t.selectionMode}" must be ALL, COUNT(n) or PERCENT(n)`,
    );
  }
  if (m[2] !== undefined && Number(m[2]) < 1) {
    throw new ValidationException(`${field}.selectionMode`, "COUNT(n) needs n of at least 1");
  }
  if (m[3] !== undefined && (Number(m[3]) < 1 || Number(m[3]) > 100)) {
    throw new ValidationException(`${field}.selectionMode`, "PERCENT(n) needs n from 1 to 100");
  }
  for (const [key, value] of Object.entries(t.parameters ?? {})) {
    if (key !== "functionQualifier") {
      throw new ValidationException(
        `${field}.parameters.${key}`,
        "is not a parameter of aws:lambda:function (only functionQualifier)",
      );
    }
    if (value.length === 0 || !QUALIFIER.test(value)) {
      throw new ValidationException(
        `${field}.parameters.functionQualifier`,
        `"${value}" is not a valid qualifier`,
      );
    }
  }
}

function checkStopConditions(body: TemplateBody): void {
  if (body.stopConditions.length === 0) {
    throw new ValidationException(
      "stopConditions",
      'at least one is required (use {"source":"none"} for none)',
    );
  }
  if (body.stopConditions.length > QUOTAS.stopConditionsPerTemplate) {
    throw new ServiceQuotaExceededException(
      `stopConditions: ${body.stopConditions.length} exceed the quota of ${QUOTAS.stopConditionsPerTemplate} per template`,
    );
  }
  body.stopConditions.forEach((sc, i) => {
    const field = `stopConditions.${i}`;
    if (sc.source === "none") {
      if (sc.value !== undefined)
        throw new ValidationException(`${field}.value`, 'must be absent when source is "none"');
    } else if (sc.source === "aws:cloudwatch:alarm") {
      if (sc.value === undefined)
        throw new ValidationException(`${field}.value`, "is required: the alarm ARN");
      if (!ALARM_ARN.test(sc.value)) {
        throw new ValidationException(`${field}.value`, `"${sc.value}" is not a CloudWatch alarm ARN`);
      }
    } else {
      throw new ValidationException(
        `${field}.source`,
        `"${sc.source}" is not supported (supported: aws:cloudwatch:alarm, none)`,
      );
    }
  });
}

function checkAction(name: string, action: TemplateAction, targets: Record<string, TemplateTarget>): void {
  const field = `actions.${name}`;
  const definition = engineAction(action.actionId);
  if (!definition) {
    throw new ValidationException(
      `${field}.actionId`,
      `"${action.actionId}" is not supported by faultline (supported: ${SUPPORTED_ACTION_IDS.join(", ")})`,
    );
  }
  checkDuration(field, action, definition);
  checkParameters(field, action, definition);
  checkActionTargets(field, action, definition, targets);
}

/** Every action needs a duration within its bounds (FIS docs: 12 h at most; aws:fis:wait one minute at least). */
function checkDuration(field: string, action: TemplateAction, definition: EngineAction): void {
  const path = `${field}.parameters.duration`;
  const text = action.parameters?.duration;
  if (text === undefined) throw new ValidationException(path, "is required");
  const ms = parseDurationMs(text, path);
  if (ms < definition.duration.minMs) {
    throw new ValidationException(
      path,
      definition.duration.minMs <= 1
        ? "must be longer than zero"
        : `"${text}" is shorter than the ${formatDurationMs(definition.duration.minMs)} minimum of ${definition.id}`,
    );
  }
  if (ms > definition.duration.maxMs) {
    throw new ServiceQuotaExceededException(
      `${path}: ${text} exceeds the quota of ${formatDurationMs(definition.duration.maxMs)} per action`,
    );
  }
}

function checkParameters(field: string, action: TemplateAction, definition: EngineAction): void {
  const params = action.parameters ?? {};
  if (definition.fault) {
    try {
      faultActionFromFisParameters(definition.fault.id as FaultActionId, params, `${field}.parameters`);
    } catch (error) {
      if (error instanceof FaultConfigError) {
        throw new ValidationException(error.field, error.message.slice(error.field.length + 2));
      }
      throw error;
    }
    return;
  }
  for (const key of Object.keys(params)) {
    if (key !== "duration") {
      throw new ValidationException(`${field}.parameters.${key}`, `is not a parameter of ${definition.id}`);
    }
  }
}

/** Each target key the action takes must name a target of the template, of the resource type it acts on. */
function checkActionTargets(
  field: string,
  action: TemplateAction,
  definition: EngineAction,
  targets: Record<string, TemplateTarget>,
): void {
  const given = action.targets ?? {};
  const keys = Object.keys(definition.targets);
  if (keys.length === 0) {
    if (Object.keys(given).length > 0) {
      throw new ValidationException(`${field}.targets`, `${definition.id} takes no targets`);
    }
    return;
  }
  for (const key of Object.keys(given)) {
    if (!keys.includes(key)) {
      throw new ValidationException(
        `${field}.targets.${key}`,
        `${definition.id} takes one target key, ${keys.join(", ")}`,
      );
    }
  }
  for (const [key, { resourceType }] of Object.entries(definition.targets)) {
    const ref = given[key];
    if (ref === undefined) {
      throw new ValidationException(`${field}.targets.${key}`, "is required: the name of a target");
    }
    const target = targets[ref];
    if (!target) {
      throw new ValidationException(`${field}.targets.${key}`, `refers to unknown target "${ref}"`);
    }
    if (target.resourceType !== resourceType) {
      throw new ValidationException(
        `${field}.targets.${key}`,
        `target "${ref}" is of type ${target.resourceType}; ${definition.id} acts on ${resourceType}`,
      );
    }
  }
}

/** startAfter must name other actions and never loop back: FIS runs actions as a DAG. */
function checkDag(actions: Record<string, TemplateAction>): void {
  for (const [name, action] of Object.entries(actions)) {
    action.startAfter?.forEach((dep, i) => {
      if (dep === name)
        throw new ValidationException(
          `actions.${name}.startAfter.${i}`,
          "an action cannot start after itself",
        );
      if (!Object.hasOwn(actions, dep)) {
        throw new ValidationException(`actions.${name}.startAfter.${i}`, `refers to unknown action "${dep}"`);
      }
    });
  }
  const state = new Map<string, "visiting" | "done">();
  const visit = (name: string, path: string[]): void => {
    if (state.get(name) === "done") return;
    if (state.get(name) === "visiting") {
      const cycle = [...path.slice(path.indexOf(name)), name].join(" → ");
      throw new ValidationException(`actions.${name}.startAfter`, `forms a cycle: ${cycle}`);
    }
    state.set(name, "visiting");
    for (const dep of actions[name]?.startAfter ?? []) visit(dep, [...path, name]);
    state.set(name, "done");
  };
  for (const name of Object.keys(actions)) visit(name, []);
  const roots = Object.values(actions).filter((a) => (a.startAfter ?? []).length === 0).length;
  if (roots > QUOTAS.parallelActions) {
    throw new ServiceQuotaExceededException(
      `actions: ${roots} actions would run in parallel, over the quota of ${QUOTAS.parallelActions}`,
    );
  }
}

/** The duration of a validated action, in ms. */
export function actionDurationMs(action: TemplateAction): number {
  return parseDurationMs(action.parameters?.duration ?? "PT0S", "parameters.duration");
}

/** FIS's quota on a whole experiment (12 h): the longest chain of actions through startAfter, end to end. */
function checkExperimentDuration(actions: Record<string, TemplateAction>): void {
  const ends = new Map<string, { ms: number; chain: string[] }>();
  const end = (name: string): { ms: number; chain: string[] } => {
    const known = ends.get(name);
    if (known) return known;
    const action = actions[name]!;
    let before = { ms: 0, chain: [] as string[] };
    for (const dep of action.startAfter ?? []) {
      const e = end(dep);
      if (e.ms > before.ms) before = e;
    }
    const result = { ms: before.ms + actionDurationMs(action), chain: [...before.chain, name] };
    ends.set(name, result);
    return result;
  };
  const longest = Object.keys(actions)
    .map(end)
    .reduce((a, b) => (b.ms > a.ms ? b : a));
  if (longest.ms > QUOTAS.maxExperimentDurationMs) {
    throw new ServiceQuotaExceededException(
      `actions: ${longest.chain.join(" → ")} runs ${formatDurationMs(longest.ms)} end to end, over the quota of ${formatDurationMs(QUOTAS.maxExperimentDurationMs)} per experiment`,
    );
  }
}
