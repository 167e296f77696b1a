/**
 * The template form's model: the common Lambda case (one action on one set of functions) as plain strings, and
 * its translation to and from CreateExperimentTemplate's input. No components here.
 */
import { type ApiError, call, enc, type Template } from "./api.ts";

export const TARGET = "Functions";
export const ROLE = "arn:aws:iam::123456789012:role/faultline";

export interface Form {
  name: string;
  description: string;
  roleArn: string;
  actionName: string;
  actionId: string;
  parameters: Record<string, string>;
  targetBy: "tags" | "arns";
  tags: string;
  arns: string;
  selection: "ALL" | "COUNT" | "PERCENT";
  selectionN: string;
  alarms: string;
  report: boolean;
  pre: string;
  post: string;
  bucket: string;
  prefix: string;
}

export const NEW_FORM: Form = {
  name: "",
  description: "",
  roleArn: ROLE,
  actionName: "fault",
  actionId: "aws:lambda:invocation-add-delay",
  parameters: { duration: "PT1M", startupDelayMilliseconds: "1000", invocationPercentage: "100" },
  targetBy: "tags",
  tags: "FISExperimentReady=Yes",
  arns: "",
  selection: "ALL",
  selectionN: "1",
  alarms: "",
  report: true,
  pre: "PT30S",
  post: "PT30S",
  bucket: "",
  prefix: "",
};

export const lines = (text: string) =>
  text
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);

/** The template body the form stands for (CreateExperimentTemplate's input, minus clientToken). */
export function templateOf(f: Form, forUpdate: boolean, accepted?: string[]): Record<string, unknown> {
  const tags = Object.fromEntries(
    lines(f.tags).map((l) => {
      const i = l.indexOf("=");
      return i < 0 ? [l, ""] : [l.slice(0, i).trim(), l.slice(i + 1).trim()];
    }),
  );
  const alarms = lines(f.alarms);
  // Values typed for another action than the one chosen are left out.
  const parameters = Object.fromEntries(
    Object.entries(f.parameters).filter(([k, v]) => v !== "" && (accepted?.includes(k) ?? true)),
  );
  return {
    description: f.description,
    roleArn: f.roleArn,
    targets: {
      [TARGET]: {
        resourceType: "aws:lambda:function",
        ...(f.targetBy === "tags" ? { resourceTags: tags } : { resourceArns: lines(f.arns) }),
        selectionMode: f.selection === "ALL" ? "ALL" : `${f.selection}(${f.selectionN})`,
      },
    },
    actions: { [f.actionName]: { actionId: f.actionId, parameters, targets: { [TARGET]: TARGET } } },
    stopConditions:
      alarms.length === 0
        ? [{ source: "none" }]
        : alarms.map((value) => ({ source: "aws:cloudwatch:alarm", value })),
    ...(f.report
      ? {
          experimentReportConfiguration: {
            preExperimentDuration: f.pre,
            postExperimentDuration: f.post,
            ...(f.bucket
              ? {
                  outputs: {
                    s3Configuration: { bucketName: f.bucket, ...(f.prefix ? { prefix: f.prefix } : {}) },
                  },
                }
              : {}),
          },
        }
      : {}),
    ...(forUpdate || !f.name ? {} : { tags: { Name: f.name } }),
  };
}

/** The form for a template of the common shape, or undefined (then only the JSON editor edits it). */
export function formOf(t: Template): Form | undefined {
  const actions = Object.entries(t.actions);
  const targets = Object.entries(t.targets);
  if (actions.length !== 1 || targets.length !== 1) return undefined;
  const [actionName, action] = actions[0]!;
  const [, target] = targets[0]!;
  if (target.resourceType !== "aws:lambda:function" || target.filters?.length) return undefined;
  const sel = /^(COUNT|PERCENT)\((\d+)\)$/.exec(target.selectionMode);
  const rc = t.experimentReportConfiguration;
  return {
    name: t.tags?.Name ?? "",
    description: t.description,
    roleArn: t.roleArn ?? ROLE,
    actionName,
    actionId: action.actionId,
    parameters: { ...action.parameters },
    targetBy: target.resourceArns?.length ? "arns" : "tags",
    tags: Object.entries(target.resourceTags ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join("\n"),
    arns: (target.resourceArns ?? []).join("\n"),
    selection: sel ? (sel[1] as "COUNT" | "PERCENT") : "ALL",
    selectionN: sel?.[2] ?? "1",
    alarms: t.stopConditions
      .filter((s) => s.source !== "none")
      .map((s) => s.value ?? "")
      .join("\n"),
    report: rc !== undefined,
    pre: rc?.preExperimentDuration ?? "PT30S",
    post: rc?.postExperimentDuration ?? "PT30S",
    bucket: rc?.outputs?.s3Configuration?.bucketName ?? "",
    prefix: rc?.outputs?.s3Configuration?.prefix ?? "",
  };
}

/** UpdateExperimentTemplate's fields of a template (no id, times or tags). */
export function editable(t: Template): Record<string, unknown> {
  const {
    id: _id,
    creationTime: _c,
    lastUpdateTime: _l,
    tags: _t,
    ...rest
  } = t as Template & { arn?: string };
  delete (rest as { arn?: string }).arn;
  return rest;
}

/** The form fields a ValidationException may name (an error elsewhere is shown above the form). */
export function formPaths(f: Form): string[] {
  const a = `actions.${f.actionName}`;
  return [
    "description",
    "roleArn",
    `${a}.actionId`,
    ...Object.keys(f.parameters).map((p) => `${a}.parameters.${p}`),
    `targets.${TARGET}`,
    "stopConditions",
    "experimentReportConfiguration",
    "tags",
  ];
}

/** The error message for the input at `path` when the engine named it (or something inside it). */
export function errorAt(error: Error | undefined, path: string): string | undefined {
  const field = (error as ApiError | undefined)?.field;
  return field !== undefined && (field === path || field.startsWith(`${path}.`)) ? error?.message : undefined;
}

/** CreateExperimentTemplate (a fresh client token) or UpdateExperimentTemplate; the saved template's id. */
export async function saveTemplate(id: string | undefined, body: Record<string, unknown>): Promise<string> {
  const out = id
    ? await call<{ experimentTemplate: Template }>("PATCH", `/experimentTemplates/${enc(id)}`, body)
    : await call<{ experimentTemplate: Template }>("POST", "/experimentTemplates", {
        ...body,
        clientToken: crypto.randomUUID(),
      });
  return out.experimentTemplate.id;
}
