/** Templates: every experiment template, newest change first; open one or create one. */
import { useEffect, useState } from "preact/hooks";
import { call, detailed, enc, listAll, type Template, type TemplateSummary, time } from "../api.ts";
import { Problem } from "../ui.tsx";

/** Its actions' ids, a repeated one counted (a staged scenario: `aws:lambda:invocation-error ×3`). */
function actionsOf(t: Template): string {
  const counts = new Map<string, number>();
  for (const a of Object.values(t.actions)) counts.set(a.actionId, (counts.get(a.actionId) ?? 0) + 1);
  return [...counts].map(([id, n]) => (n > 1 ? `${id} ×${n}` : id)).join(", ");
}

export function TemplatesPage() {
  const [templates, setTemplates] = useState<Array<TemplateSummary | Template>>();
  const [error, setError] = useState<Error>();
  useEffect(() => {
    listAll<TemplateSummary>("/experimentTemplates", "experimentTemplates")
      .then(async (list) => {
        list.sort((a, b) => b.lastUpdateTime - a.lastUpdateTime);
        setTemplates(list);
        // The summaries have no actions: the newest templates' own, a few at a time.
        setTemplates(
          await detailed(list, (id) =>
            call<{ experimentTemplate: Template }>("GET", `/experimentTemplates/${enc(id)}`).then(
              (r) => r.experimentTemplate,
            ),
          ),
        );
      })
      .catch(setError);
  }, []);
  return (
    <section>
      <div class="title">
        <h1 tabIndex={-1}>Experiment templates</h1>
        <div class="buttons">
          <a class="button" href="#/scenarios">
            New from a scenario
          </a>
          <a class="button primary" href="#/templates/new">
            New template
          </a>
        </div>
      </div>
      <Problem error={error} />
      {templates === undefined ? (
        <p aria-busy="true">Loading…</p>
      ) : templates.length === 0 ? (
        <p>No templates yet. Create one with “New template”.</p>
      ) : (
        <div class="scroll">
          <table>
            <thead>
              <tr>
                <th scope="col">Template</th>
                <th scope="col">Description</th>
                <th scope="col">Actions</th>
                <th scope="col">Last update</th>
              </tr>
            </thead>
            <tbody>
              {templates.map((t) => (
                <tr key={t.id}>
                  <td>
                    <a href={`#/templates/${t.id}`}>{t.tags?.Name ?? t.id}</a>
                    {t.tags?.Name ? <div class="muted mono">{t.id}</div> : null}
                  </td>
                  <td>{t.description}</td>
                  <td class="mono">{"actions" in t ? actionsOf(t) : "…"}</td>
                  <td>{time(t.lastUpdateTime)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
