/**
 * A template from the gray-failure scenario library (@faultline/protocol/scenarios, bundled: the same table the
 * CLI's `faultline scenarios` uses, and its own build and parameter checks). Pick a scenario, fill its
 * parameters (their limits and defaults from the table), see the template it builds in the JSON editor (edit it
 * if you like), and create it through CreateExperimentTemplate like any other.
 */
import {
  DEFAULT_ROLE_ARN,
  SCENARIOS,
  type Scenario,
  ScenarioError,
  type ScenarioParameter,
} from "@faultline/protocol/scenarios";
import { useEffect, useState } from "preact/hooks";
import { Field, TextArea } from "../fields.tsx";
import { errorLine, JsonEditor } from "../json-editor.tsx";
import { lines, saveTemplate } from "../template-form.ts";
import { Problem } from "../ui.tsx";
import { parsedBody } from "./template-edit.tsx";

/** A parameter's default as the text the form (and `--param key=value`) takes. */
const textOf = (p: ScenarioParameter) => (Array.isArray(p.default) ? p.default.join(",") : String(p.default));

/** A parameter's rule in words, as `faultline scenarios show` prints it. */
function ruleOf(p: ScenarioParameter): string {
  if (p.type === "integer") return `${p.min}–${p.max}, default ${p.default}`;
  if (p.type === "percentages")
    return `up to ${p.maxItems} comma-separated percentages, default ${textOf(p)}`;
  return `${p.rule}, default “${p.default}”`;
}

interface Options {
  values: Record<string, string>;
  roleArn: string;
  alarms: string;
}

const optionsFor = (s: Scenario): Options => ({
  values: Object.fromEntries(Object.entries(s.parameters).map(([k, p]) => [k, textOf(p)])),
  roleArn: DEFAULT_ROLE_ARN,
  alarms: "",
});

/** The scenario's template for these options as editable JSON, or the ScenarioError naming a parameter. */
function built(s: Scenario, o: Options): { json?: string; error?: ScenarioError } {
  try {
    const template = s.build(o.values, { roleArn: o.roleArn, stopAlarms: lines(o.alarms) });
    return { json: JSON.stringify(template, null, 2) };
  } catch (error) {
    if (error instanceof ScenarioError) return { error };
    throw error;
  }
}

function ScenarioParameters(props: {
  scenario: Scenario;
  o: Options;
  set: (o: Options) => void;
  error?: ScenarioError;
}) {
  const { scenario, o, set, error } = props;
  return (
    <fieldset>
      <legend>Parameters</legend>
      {Object.entries(scenario.parameters).map(([key, p]) => (
        <Field
          key={`${scenario.name}.${key}`}
          label={`${key} — ${ruleOf(p)}`}
          path={`scenario.${key}`}
          value={o.values[key] ?? ""}
          onInput={(v) => set({ ...o, values: { ...o.values, [key]: v } })}
          error={error?.parameter === key ? error.message : undefined}
          title={p.description}
          placeholder={p.description}
          inputMode={p.type === "integer" ? "numeric" : "text"}
        />
      ))}
      <Field label="Role ARN" path="roleArn" value={o.roleArn} onInput={(v) => set({ ...o, roleArn: v })} />
      <TextArea
        label="Stop conditions: CloudWatch alarm ARNs, one a line (none: no stop condition)"
        path="stopConditions"
        value={o.alarms}
        onInput={(v) => set({ ...o, alarms: v })}
      />
    </fieldset>
  );
}

export function ScenarioPage({ name }: { name?: string }) {
  const scenario = SCENARIOS.find((s) => s.name === name) ?? SCENARIOS[0]!;
  const [o, setOptions] = useState(() => optionsFor(scenario));
  const [json, setJson] = useState(() => built(scenario, o).json ?? "");
  const [error, setError] = useState<Error>();
  const [saving, setSaving] = useState(false);
  const problem = built(scenario, o).error;
  useEffect(() => change(optionsFor(scenario)), [scenario]);
  /** New options rebuild the template (replacing edits made to the JSON by hand). */
  const change = (next: Options) => {
    setOptions(next);
    const b = built(scenario, next);
    if (b.json !== undefined) setJson(b.json);
    setError(undefined);
  };
  const create = async (ev: Event) => {
    ev.preventDefault();
    if (problem)
      return document.querySelector<HTMLElement>(`[data-field="scenario.${problem.parameter}"]`)?.focus();
    setSaving(true);
    try {
      location.hash = `#/templates/${await saveTemplate(undefined, parsedBody(json))}`;
    } catch (err) {
      setError(err as Error);
    } finally {
      setSaving(false);
    }
  };
  return (
    <section>
      <div class="title">
        <h1 tabIndex={-1}>New template from a scenario</h1>
      </div>
      {errorLine(json, error) === undefined ? <Problem error={error} /> : null}
      <form onSubmit={create} noValidate>
        <fieldset>
          <legend>Scenario</legend>
          <div class="field">
            <label for="f-scenario">Scenario</label>
            <select
              id="f-scenario"
              value={scenario.name}
              onChange={(e) => (location.hash = `#/scenarios/${e.currentTarget.value}`)}
            >
              {SCENARIOS.map((s) => (
                <option key={s.name} value={s.name}>
                  {s.name}
                </option>
              ))}
            </select>
            <p>{scenario.description}</p>
            <p class="muted">What it tells you: {scenario.tellsYou}</p>
          </div>
        </fieldset>
        <ScenarioParameters scenario={scenario} o={o} set={change} {...(problem ? { error: problem } : {})} />
        <JsonEditor
          label="The template it builds (CreateExperimentTemplate input; yours to edit)"
          value={json}
          onInput={setJson}
          error={error}
        />
        <div class="buttons">
          <button type="submit" class="primary" disabled={saving}>
            Create template
          </button>
          <a class="button" href="#/templates">
            Cancel
          </a>
        </div>
      </form>
    </section>
  );
}
