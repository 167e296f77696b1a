/** Templates: every experiment template, newest change first; open one or create one. */
import { useEffect, useState } from "preact/hooks";
import { listAll, type Template, time } from "../api.ts";
import { Problem } from "../ui.tsx";

export function TemplatesPage() {
  const [templates, setTemplates] = useState<Template[]>();
  const [error, setError] = useState<Error>();
  useEffect(() => {
    listAll<Template>("/experimentTemplates", "experimentTemplates")
      .then((t) => setTemplates(t.sort((a, b) => (b.lastUpdateTime ?? 0) - (a.lastUpdateTime ?? 0))))
      .catch(setError);
  }, []);
  return (
    <section>
      <div class="title">
        <h1 tabIndex={-1}>Experiment templates</h1>
        <a class="button primary" href="#/templates/new">
          New template
        </a>
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
                    {Object.values(t.actions)
                      .map((a) => a.actionId)
                      .join(", ")}
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
