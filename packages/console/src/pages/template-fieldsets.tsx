/**
 * The template form, one fieldset a component: about, action, targets, stop conditions, report. Each gets the
 * form, a patcher and the engine's last error (shown beside the field it names).
 */
import type { ActionSummary } from "../api.ts";
import { Field, TextArea } from "../fields.tsx";
import { errorAt, type Form, lines, TARGET } from "../template-form.ts";

export interface FieldsetProps {
  form: Form;
  set: (patch: Partial<Form>) => void;
  error: Error | undefined;
}

export function AboutFieldset({ form, set, error, isNew }: FieldsetProps & { isNew: boolean }) {
  return (
    <fieldset>
      <legend>About</legend>
      {isNew ? (
        <Field
          label="Name (tag Name)"
          path="tags"
          value={form.name}
          onInput={(v) => set({ name: v })}
          error={errorAt(error, "tags")}
        />
      ) : null}
      <Field
        label="Description"
        path="description"
        value={form.description}
        onInput={(v) => set({ description: v })}
        error={errorAt(error, "description")}
        required
      />
      <Field
        label="Role ARN"
        path="roleArn"
        value={form.roleArn}
        onInput={(v) => set({ roleArn: v })}
        error={errorAt(error, "roleArn")}
      />
    </fieldset>
  );
}

/** The action (ListActions' Lambda ones) and its parameters (GetAction's, once it has answered). */
export function ActionFieldset(
  props: FieldsetProps & { actions: ActionSummary[]; shownAction: ActionSummary | undefined },
) {
  const { form, set, error, actions, shownAction } = props;
  const a = `actions.${form.actionName}`;
  const parameters =
    shownAction?.parameters ??
    Object.fromEntries(Object.keys(form.parameters).map((k) => [k, { description: "", required: false }]));
  return (
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
      {Object.entries(parameters).map(([key, p]) => (
        <Field
          key={key}
          label={`${key}${p.required ? " (required)" : ""}`}
          path={`${a}.parameters.${key}`}
          value={form.parameters[key] ?? ""}
          onInput={(v) => set({ parameters: { ...form.parameters, [key]: v } })}
          error={errorAt(error, `${a}.parameters.${key}`)}
          placeholder={p.description}
          title={p.description}
        />
      ))}
    </fieldset>
  );
}

/** The target functions: by tags or ARNs (the lab's functions one click away), and the selection mode. */
export function TargetsFieldset({ form, set, error, functions }: FieldsetProps & { functions: string[] }) {
  const t = `targets.${TARGET}`;
  const byTags = form.targetBy === "tags";
  const listPath = byTags ? `${t}.resourceTags` : `${t}.resourceArns`;
  const elsewhere =
    errorAt(error, t) && !errorAt(error, `${t}.resourceTags`) && !errorAt(error, `${t}.resourceArns`);
  return (
    <fieldset>
      <legend>Targets: Lambda functions</legend>
      <fieldset class="radios">
        <legend>Select functions by</legend>
        <label>
          <input type="radio" name="by" checked={byTags} onChange={() => set({ targetBy: "tags" })} /> by tags
        </label>
        <label>
          <input type="radio" name="by" checked={!byTags} onChange={() => set({ targetBy: "arns" })} /> by
          ARNs
        </label>
      </fieldset>
      <TextArea
        label={byTags ? "Tags, one key=value a line" : "Function ARNs, one a line"}
        path={listPath}
        value={byTags ? form.tags : form.arns}
        onInput={(v) => set(byTags ? { tags: v } : { arns: v })}
        error={errorAt(error, listPath)}
      />
      {!byTags && functions.length > 0 ? (
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
      <SelectionMode form={form} set={set} />
      {errorAt(error, `${t}.selectionMode`) || elsewhere ? (
        <p class="error field-error" role="alert">
          {error?.message}
        </p>
      ) : null}
    </fieldset>
  );
}

function SelectionMode({ form, set }: Omit<FieldsetProps, "error">) {
  return (
    <div class="field row">
      <label for="f-sel">Selection mode</label>
      <select
        id="f-sel"
        data-field={`targets.${TARGET}.selectionMode`}
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
  );
}

export function StopConditionsFieldset({ form, set, error }: FieldsetProps) {
  return (
    <fieldset>
      <legend>Stop conditions</legend>
      <TextArea
        label="CloudWatch alarm ARNs, one a line (none: no stop condition)"
        path="stopConditions"
        value={form.alarms}
        onInput={(v) => set({ alarms: v })}
        error={errorAt(error, "stopConditions")}
      />
    </fieldset>
  );
}

/** The experiment report: its windows before and after, and an optional S3 copy. */
export function ReportFieldset({ form, set, error }: FieldsetProps) {
  const rc = "experimentReportConfiguration";
  return (
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
          <Field
            label="Before the experiment (ISO 8601)"
            path={`${rc}.preExperimentDuration`}
            value={form.pre}
            onInput={(v) => set({ pre: v })}
            error={errorAt(error, `${rc}.preExperimentDuration`)}
          />
          <Field
            label="After the experiment (ISO 8601)"
            path={`${rc}.postExperimentDuration`}
            value={form.post}
            onInput={(v) => set({ post: v })}
            error={errorAt(error, `${rc}.postExperimentDuration`)}
          />
          <Field
            label="S3 bucket for a copy (optional)"
            path={`${rc}.outputs`}
            value={form.bucket}
            onInput={(v) => set({ bucket: v })}
            error={errorAt(error, `${rc}.outputs`)}
          />
          {form.bucket ? (
            <Field
              label="S3 prefix"
              path={`${rc}.outputs.s3Configuration.prefix`}
              value={form.prefix}
              onInput={(v) => set({ prefix: v })}
              error={errorAt(error, `${rc}.outputs.s3Configuration.prefix`)}
            />
          ) : null}
        </>
      ) : null}
    </fieldset>
  );
}
