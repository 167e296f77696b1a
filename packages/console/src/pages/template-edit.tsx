/**
 * Create or edit a template: a form for the common Lambda case (one action on one set of functions, one
 * fieldset a component in template-fieldsets.tsx), or the JSON itself. Either way the engine validates; its
 * ValidationException is shown next to the field it names.
 */
import { useEffect, useState } from "preact/hooks";
import { type ActionSummary, ApiError, call, enc, type LabSnapshot, listAll, type Template } from "../api.ts";
import { errorLine, JsonEditor } from "../json-editor.tsx";
import {
  editable,
  errorAt,
  type Form,
  formOf,
  formPaths,
  NEW_FORM,
  saveTemplate,
  TARGET,
  templateOf,
} from "../template-form.ts";
import { Problem } from "../ui.tsx";
import {
  AboutFieldset,
  ActionFieldset,
  ReportFieldset,
  StopConditionsFieldset,
  TargetsFieldset,
} from "./template-fieldsets.tsx";

/** ListActions' Lambda actions, and (in the lab) its functions' ARNs for the ARN field. */
function useChoices(onError: (e: Error) => void) {
  const [actions, setActions] = useState<ActionSummary[]>([]);
  const [functions, setFunctions] = useState<string[]>([]);
  useEffect(() => {
    listAll<ActionSummary>("/actions", "actions")
      .then((a) => setActions(a.filter((x) => x.targets?.[TARGET] || x.id.includes(":lambda:"))))
      .catch(onError);
    // No Lambda call from the browser: the lab's own view lists them.
    call<LabSnapshot>("GET", "/console/api/lab")
      .then((lab) => setFunctions(lab.functions.map((f) => f.arn)))
      .catch(() => {});
  }, []);
  return { actions, functions };
}

/** ListActions has no parameters; GetAction of the chosen action has them (undefined until it answers). */
function useAction(actionId: string | undefined): ActionSummary | undefined {
  const [action, setAction] = useState<ActionSummary>();
  useEffect(() => {
    if (!actionId) return;
    call<{ action: ActionSummary }>("GET", `/actions/${enc(actionId)}`)
      .then((r) => setAction(r.action))
      .catch(() => setAction(undefined));
  }, [actionId]);
  return action?.id === actionId ? action : undefined;
}

/** The page's state: the form (or JSON), its mode, the last error; loads the template being edited. */
function useEditor(id: string | undefined) {
  const [form, setForm] = useState<Form | undefined>(id ? undefined : NEW_FORM);
  const [mode, setMode] = useState<"form" | "json">("form");
  const [json, setJson] = useState("");
  const [error, setError] = useState<Error>();
  useEffect(() => {
    if (!id) return;
    call<{ experimentTemplate: Template }>("GET", `/experimentTemplates/${enc(id)}`)
      .then(({ experimentTemplate: t }) => {
        const f = formOf(t);
        setForm(f);
        setJson(JSON.stringify(editable(t), null, 2));
        if (!f) setMode("json");
      })
      .catch(setError);
  }, [id]);
  return { form, setForm, mode, setMode, json, setJson, error, setError };
}

/** The form → its JSON, or JSON of the form's shape → the form (else an error, and the mode stays). */
function switched(
  e: ReturnType<typeof useEditor>,
  next: "form" | "json",
  forUpdate: boolean,
  accepted?: string[],
) {
  if (next === "json" && e.form) e.setJson(JSON.stringify(templateOf(e.form, forUpdate, accepted), null, 2));
  if (next === "form") {
    try {
      const f = formOf({ id: "", ...(JSON.parse(e.json) as Omit<Template, "id">) });
      if (!f)
        throw new Error(
          "This template is not of the form's shape (one action, one target): edit it as JSON.",
        );
      e.setForm({ ...f, name: e.form?.name ?? f.name });
    } catch (err) {
      e.setError(err as Error);
      return;
    }
  }
  e.setError(undefined);
  e.setMode(next);
}

/** The body to send, or a ValidationException for JSON that does not parse. */
export function parsedBody(json: string): Record<string, unknown> {
  try {
    return JSON.parse(json) as Record<string, unknown>;
  } catch (err) {
    throw new ApiError(400, "ValidationException", `(body): is not valid JSON (${(err as Error).message})`);
  }
}

export function TemplateEditPage({ id }: { id?: string }) {
  const e = useEditor(id);
  const { form, mode, json, error } = e;
  const { actions, functions } = useChoices(e.setError);
  const shownAction = useAction(form?.actionId);
  const accepted = shownAction ? Object.keys(shownAction.parameters ?? {}) : undefined;
  const [saving, setSaving] = useState(false);
  const set = (patch: Partial<Form>) => e.setForm((f) => (f ? { ...f, ...patch } : f));

  const save = async (ev: Event) => {
    ev.preventDefault();
    e.setError(undefined);
    setSaving(true);
    try {
      const body = mode === "json" ? parsedBody(json) : templateOf(form!, !!id, accepted);
      location.hash = `#/templates/${await saveTemplate(id, body)}`;
    } catch (err) {
      e.setError(err as Error);
    } finally {
      setSaving(false);
    }
  };
  const shownInForm = mode === "form" && !!form && formPaths(form).some((p) => errorAt(error, p));
  const shownInJson = mode === "json" && errorLine(json, error) !== undefined;
  const props = { form: form!, set, error };
  return (
    <section>
      <div class="title">
        <h1 tabIndex={-1}>{id ? `Edit template ${id}` : "New experiment template"}</h1>
        <div class="buttons">
          {(["form", "json"] as const).map((m) => (
            <button
              key={m}
              type="button"
              aria-pressed={mode === m}
              onClick={() => switched(e, m, !!id, accepted)}
            >
              {m === "form" ? "Form" : "JSON"}
            </button>
          ))}
        </div>
      </div>
      {shownInForm || shownInJson ? null : <Problem error={error} />}
      <form onSubmit={save} noValidate>
        {mode === "json" ? (
          <JsonEditor
            label="Template JSON (CreateExperimentTemplate / UpdateExperimentTemplate input)"
            value={json}
            onInput={e.setJson}
            error={error}
          />
        ) : form ? (
          <>
            <AboutFieldset {...props} isNew={!id} />
            <ActionFieldset {...props} actions={actions} shownAction={shownAction} />
            <TargetsFieldset {...props} functions={functions} />
            <StopConditionsFieldset {...props} />
            <ReportFieldset {...props} />
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
