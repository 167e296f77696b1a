/**
 * Create or edit a template: a form for the common Lambda case (one action on one set of functions), or the
 * JSON itself. Either way the engine validates; its ValidationException is shown next to the field it names.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import { type ActionSummary, ApiError, call, enc, type LabSnapshot, listAll, type Template } from "../api.ts";
import { Problem } from "../ui.tsx";

const TARGET = "Functions";
const ROLE = "arn:aws:iam::123456789012:role/faultline";

interface Form {
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

const NEW_FORM: Form = {
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

const lines = (text: string) =>
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
function formOf(t: Template): Form | undefined {
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
function editable(t: Template): Record<string, unknown> {
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

/** Where a field path (`actions.fault.parameters.duration`) is in JSON text: its 1-based line, or undefined. */
export function lineOf(json: string, field: string): number | undefined {
  let at = 0;
  let found = false;
  for (const key of field.split(".")) {
    if (/^\d+$/.test(key)) continue;
    const i = json.indexOf(`"${key}"`, at);
    if (i < 0) break;
    at = i;
    found = true;
  }
  return found ? json.slice(0, at).split("\n").length : undefined;
}

export function TemplateEditPage({ id }: { id?: string }) {
  const [form, setForm] = useState<Form | undefined>(id ? undefined : NEW_FORM);
  const [mode, setMode] = useState<"form" | "json">("form");
  const [json, setJson] = useState("");
  const [actions, setActions] = useState<ActionSummary[]>([]);
  const [functions, setFunctions] = useState<string[]>([]);
  const [error, setError] = useState<ApiError | Error>();
  const [saving, setSaving] = useState(false);
  const jsonRef = useRef<HTMLTextAreaElement>(null);

  useEffect(() => {
    listAll<ActionSummary>("/actions", "actions")
      .then((a) => setActions(a.filter((x) => x.targets?.[TARGET] || x.id.includes(":lambda:"))))
      .catch(setError);
    // In the lab, its functions' ARNs make the ARN field easier to fill (no Lambda call from the browser).
    call<LabSnapshot>("GET", "/console/api/lab")
      .then((lab) => setFunctions(lab.functions.map((f) => f.arn)))
      .catch(() => {});
    if (id) {
      call<{ experimentTemplate: Template }>("GET", `/experimentTemplates/${enc(id)}`)
        .then(({ experimentTemplate: t }) => {
          const f = formOf(t);
          setForm(f);
          setJson(JSON.stringify(editable(t), null, 2));
          if (!f) setMode("json");
        })
        .catch(setError);
    }
  }, [id]);

  // ListActions has no parameters; GetAction of the chosen action has them.
  const [action, setAction] = useState<ActionSummary>();
  const actionId = form?.actionId;
  useEffect(() => {
    if (!actionId) return;
    call<{ action: ActionSummary }>("GET", `/actions/${enc(actionId)}`)
      .then((r) => setAction(r.action))
      .catch(() => setAction(undefined));
  }, [actionId]);
  const shownAction = action?.id === actionId ? action : undefined;
  const accepted = shownAction ? Object.keys(shownAction.parameters ?? {}) : undefined;
  const set = (patch: Partial<Form>) => setForm((f) => (f ? { ...f, ...patch } : f));
  const setParam = (k: string, v: string) =>
    setForm((f) => (f ? { ...f, parameters: { ...f.parameters, [k]: v } } : f));

  const switchMode = (next: "form" | "json") => {
    if (next === "json" && form) setJson(JSON.stringify(templateOf(form, !!id, accepted), null, 2));
    if (next === "form") {
      try {
        const f = formOf({ id: "", ...(JSON.parse(json) as Omit<Template, "id">) });
        if (!f)
          throw new Error(
            "This template is not of the form's shape (one action, one target): edit it as JSON.",
          );
        setForm({ ...f, name: form?.name ?? f.name });
      } catch (e) {
        setError(e as Error);
        return;
      }
    }
    setError(undefined);
    setMode(next);
  };

  const save = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    let body: Record<string, unknown>;
    try {
      body =
        mode === "json" ? (JSON.parse(json) as Record<string, unknown>) : templateOf(form!, !!id, accepted);
    } catch (err) {
      setError(
        new ApiError(400, "ValidationException", `(body): is not valid JSON (${(err as Error).message})`),
      );
      return;
    }
    setSaving(true);
    try {
      const out = id
        ? await call<{ experimentTemplate: Template }>("PATCH", `/experimentTemplates/${enc(id)}`, body)
        : await call<{ experimentTemplate: Template }>("POST", "/experimentTemplates", {
            ...body,
            clientToken: crypto.randomUUID(),
          });
      location.hash = `#/templates/${out.experimentTemplate.id}`;
    } catch (err) {
      setError(err as Error);
      if (mode === "json" && err instanceof ApiError && err.field) {
        const line = lineOf(json, err.field);
        const el = jsonRef.current;
        if (line && el) {
          const start =
            json
              .split("\n")
              .slice(0, line - 1)
              .join("\n").length + (line > 1 ? 1 : 0);
          el.focus();
          el.setSelectionRange(start, start + (json.split("\n")[line - 1]?.length ?? 0));
        }
      }
    } finally {
      setSaving(false);
    }
  };

  const field = error instanceof ApiError ? error.field : undefined;
  /** The error for the input at `path` when the engine named it (or something inside it). */
  const errorFor = (path: string) =>
    field !== undefined && (field === path || field.startsWith(`${path}.`)) ? error?.message : undefined;
  const formPaths = () => {
    const a = `actions.${form?.actionName}`;
    return [
      "description",
      "roleArn",
      `${a}.actionId`,
      ...Object.keys(form?.parameters ?? {}).map((p) => `${a}.parameters.${p}`),
      `targets.${TARGET}`,
      "stopConditions",
      "experimentReportConfiguration",
      "tags",
    ];
  };
  const shownInForm = mode === "form" && field !== undefined && formPaths().some((p) => errorFor(p));
  const jsonLine = mode === "json" && field ? lineOf(json, field) : undefined;

  const input = (
    label: string,
    path: string,
    value: string,
    onInput: (v: string) => void,
    props: Record<string, unknown> = {},
  ) => {
    const message = errorFor(path);
    const fid = `f-${path.replace(/\W/g, "-")}`;
    return (
      <div class="field">
        <label for={fid}>{label}</label>
        <input
          id={fid}
          data-field={path}
          value={value}
          aria-invalid={message ? "true" : undefined}
          aria-describedby={message ? `${fid}-err` : undefined}
          onInput={(e) => onInput(e.currentTarget.value)}
          {...props}
        />
        {message ? (
          <p id={`${fid}-err`} class="error field-error" role="alert">
            {message}
          </p>
        ) : null}
      </div>
    );
  };

  const a = `actions.${form?.actionName}`;
  const t = `targets.${TARGET}`;
  return (
    <section>
      <div class="title">
        <h1 tabIndex={-1}>{id ? `Edit template ${id}` : "New experiment template"}</h1>
        <div class="buttons">
          <button type="button" aria-pressed={mode === "form"} onClick={() => switchMode("form")}>
            Form
          </button>
          <button type="button" aria-pressed={mode === "json"} onClick={() => switchMode("json")}>
            JSON
          </button>
        </div>
      </div>
      {!shownInForm && !(jsonLine && mode === "json") ? <Problem error={error} /> : null}
      <form onSubmit={save} noValidate>
        {mode === "json" ? (
          <div class="field">
            <label for="json">
              Template JSON (CreateExperimentTemplate / UpdateExperimentTemplate input)
            </label>
            <div class="json-editor">
              <textarea
                id="json"
                ref={jsonRef}
                spellcheck={false}
                rows={Math.max(16, json.split("\n").length + 1)}
                value={json}
                aria-invalid={jsonLine ? "true" : undefined}
                aria-describedby={jsonLine ? "json-err" : undefined}
                onInput={(e) => setJson(e.currentTarget.value)}
              />
              {jsonLine && error ? (
                <p
                  id="json-err"
                  class="error json-error"
                  role="alert"
                  // Beside the line it names (the editor's line height is 1.4 × 13 px).
                  style={{ marginTop: `${(jsonLine - 1) * 18.2}px` }}
                >
                  ← line {jsonLine}: {error.message}
                </p>
              ) : null}
            </div>
          </div>
        ) : form ? (
          <>
            <fieldset>
              <legend>About</legend>
              {id ? null : input("Name (tag Name)", "tags", form.name, (v) => set({ name: v }))}
              {input("Description", "description", form.description, (v) => set({ description: v }), {
                required: true,
              })}
              {input("Role ARN", "roleArn", form.roleArn, (v) => set({ roleArn: v }))}
            </fieldset>
            <fieldset>
              <legend>Action</legend>
              <div class="field">
                <label for="f-action">Action</label>
                <select
                  id="f-action"
                  data-field={`${a}.actionId`}
                  value={form.actionId}
                  onChange={(e) => set({ actionId: e.currentTarget.value })}
                >
                  {actions.length === 0 ? <option value={form.actionId}>{form.actionId}</option> : null}
                  {actions.map((x) => (
                    <option key={x.id} value={x.id}>
                      {x.id}
                    </option>
                  ))}
                </select>
                {shownAction ? <p class="muted">{shownAction.description}</p> : null}
              </div>
              {Object.entries(
                shownAction?.parameters ??
                  Object.fromEntries(
                    Object.keys(form.parameters).map((k) => [k, { description: "", required: false }]),
                  ),
              ).map(([key, p]) => (
                <div key={key}>
                  {input(
                    `${key}${p.required ? " (required)" : ""}`,
                    `${a}.parameters.${key}`,
                    form.parameters[key] ?? "",
                    (v) => setParam(key, v),
                    { placeholder: p.description, title: p.description },
                  )}
                </div>
              ))}
            </fieldset>
            <fieldset>
              <legend>Targets: Lambda functions</legend>
              <fieldset class="radios">
                <legend>Select functions by</legend>
                <label>
                  <input
                    type="radio"
                    name="by"
                    checked={form.targetBy === "tags"}
                    onChange={() => set({ targetBy: "tags" })}
                  />{" "}
                  by tags
                </label>
                <label>
                  <input
                    type="radio"
                    name="by"
                    checked={form.targetBy === "arns"}
                    onChange={() => set({ targetBy: "arns" })}
                  />{" "}
                  by ARNs
                </label>
              </fieldset>
              <TextArea
                label={form.targetBy === "tags" ? "Tags, one key=value a line" : "Function ARNs, one a line"}
                path={form.targetBy === "tags" ? `${t}.resourceTags` : `${t}.resourceArns`}
                value={form.targetBy === "tags" ? form.tags : form.arns}
                onInput={(v) => set(form.targetBy === "tags" ? { tags: v } : { arns: v })}
                error={errorFor(form.targetBy === "tags" ? `${t}.resourceTags` : `${t}.resourceArns`)}
              />
              {form.targetBy === "arns" && functions.length > 0 ? (
                <p class="muted">
                  Lab functions:{" "}
                  {functions.map((arn) => (
                    <button
                      type="button"
                      class="link"
                      key={arn}
                      onClick={() => set({ arns: [...lines(form.arns), arn].join("\n") })}
                    >
                      + {arn.split(":").pop()}
                    </button>
                  ))}
                </p>
              ) : null}
              <div class="field row">
                <label for="f-sel">Selection mode</label>
                <select
                  id="f-sel"
                  data-field={`${t}.selectionMode`}
                  value={form.selection}
                  onChange={(e) => set({ selection: e.currentTarget.value as Form["selection"] })}
                >
                  <option value="ALL">ALL</option>
                  <option value="COUNT">COUNT(n)</option>
                  <option value="PERCENT">PERCENT(n)</option>
                </select>
                {form.selection === "ALL" ? null : (
                  <input
                    aria-label="n"
                    class="short"
                    value={form.selectionN}
                    onInput={(e) => set({ selectionN: e.currentTarget.value })}
                  />
                )}
              </div>
              {errorFor(`${t}.selectionMode`) ||
              (errorFor(t) && !errorFor(`${t}.resourceTags`) && !errorFor(`${t}.resourceArns`)) ? (
                <p class="error field-error" role="alert">
                  {error?.message}
                </p>
              ) : null}
            </fieldset>
            <fieldset>
              <legend>Stop conditions</legend>
              <TextArea
                label="CloudWatch alarm ARNs, one a line (none: no stop condition)"
                path="stopConditions"
                value={form.alarms}
                onInput={(v) => set({ alarms: v })}
                error={errorFor("stopConditions")}
              />
            </fieldset>
            <fieldset>
              <legend>Report</legend>
              <label>
                <input
                  type="checkbox"
                  checked={form.report}
                  onChange={(e) => set({ report: e.currentTarget.checked })}
                />{" "}
                Write a report when the experiment ends
              </label>
              {form.report ? (
                <>
                  {input(
                    "Before the experiment (ISO 8601)",
                    "experimentReportConfiguration.preExperimentDuration",
                    form.pre,
                    (v) => set({ pre: v }),
                  )}
                  {input(
                    "After the experiment (ISO 8601)",
                    "experimentReportConfiguration.postExperimentDuration",
                    form.post,
                    (v) => set({ post: v }),
                  )}
                  {input(
                    "S3 bucket for a copy (optional)",
                    "experimentReportConfiguration.outputs",
                    form.bucket,
                    (v) => set({ bucket: v }),
                  )}
                  {form.bucket
                    ? input(
                        "S3 prefix",
                        "experimentReportConfiguration.outputs.s3Configuration.prefix",
                        form.prefix,
                        (v) => set({ prefix: v }),
                      )
                    : null}
                </>
              ) : null}
            </fieldset>
          </>
        ) : (
          <p aria-busy="true">Loading…</p>
        )}
        <div class="buttons">
          <button type="submit" class="primary" disabled={saving}>
            {id ? "Save changes" : "Create template"}
          </button>
          <a class="button" href={id ? `#/templates/${enc(id)}` : "#/templates"}>
            Cancel
          </a>
        </div>
      </form>
    </section>
  );
}

function TextArea(props: {
  label: string;
  path: string;
  value: string;
  onInput: (v: string) => void;
  error?: string | undefined;
}) {
  const fid = `f-${props.path.replace(/\W/g, "-")}`;
  return (
    <div class="field">
      <label for={fid}>{props.label}</label>
      <textarea
        id={fid}
        data-field={props.path}
        rows={3}
        value={props.value}
        aria-invalid={props.error ? "true" : undefined}
        aria-describedby={props.error ? `${fid}-err` : undefined}
        onInput={(e) => props.onInput(e.currentTarget.value)}
      />
      {props.error ? (
        <p id={`${fid}-err`} class="error field-error" role="alert">
          {props.error}
        </p>
      ) : null}
    </div>
  );
}
