/** Templates: every experiment template, newest change first; open one or create one. */
import { useEffect, useState } from "preact/hooks";
import { call, detailed, enc, listAll, type Template, type TemplateSummary, time } from "../api.ts";
import { Problem } from "../ui.tsx";

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
                  <td class="mono">
                    {"actions" in t
                      ? [...new Set(Object.values(t.actions).map((a) => a.actionId))].join(", ")
                      : "…"}
                  </td>
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
