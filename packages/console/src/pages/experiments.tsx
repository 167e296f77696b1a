/** Experiments: every experiment, newest first, filtered by state, template or text; live through the event stream. */
import { useEffect, useState } from "preact/hooks";
import { call, detailed, EXPERIMENT_STATES, type Experiment, enc, listAll, time } from "../api.ts";
import { Problem, StateBadge } from "../ui.tsx";

const STATES = ["", ...EXPERIMENT_STATES];

/** ListExperiments gives summaries (no actions, times or report): the newest ones' details. */
function details(list: Experiment[]): Promise<Experiment[]> {
  const newest = [...list].sort((a, b) => b.creationTime - a.creationTime);
  return detailed(newest, (id) =>
    call<{ experiment: Experiment }>("GET", `/experiments/${enc(id)}`).then((r) => r.experiment),
  );
}

function queryParams(): URLSearchParams {
  const q = location.hash.indexOf("?");
  return new URLSearchParams(q < 0 ? "" : location.hash.slice(q + 1));
}

export function ExperimentsPage() {
  const [experiments, setExperiments] = useState<Experiment[]>();
  const [error, setError] = useState<Error>();
  const [state, setState] = useState(queryParams().get("state") ?? "");
  const [template, setTemplate] = useState(queryParams().get("template") ?? "");
  const [text, setText] = useState("");
  const [previews, setPreviews] = useState(false);
  useEffect(() => {
    listAll<Experiment>("/experiments", "experiments")
      .then(async (list) => {
        setExperiments(list);
        setExperiments(await details(list));
      })
      .catch(setError);
    const events = new EventSource("/console/api/events");
    events.addEventListener("experiment", (e) => {
      const x = JSON.parse((e as MessageEvent<string>).data) as Experiment;
      setExperiments((list) => [x, ...(list ?? []).filter((y) => y.id !== x.id)]);
    });
    return () => events.close();
  }, []);
  const needle = text.trim().toLowerCase();
  const shown = (experiments ?? [])
    .filter((x) => !state || x.state.status === state)
    .filter((x) => !template || x.experimentTemplateId === template)
    .filter((x) => previews || x.experimentOptions?.actionsMode !== "skip-all")
    .filter(
      (x) =>
        !needle ||
        [
          x.id,
          x.experimentTemplateId,
          x.state.reason,
          ...Object.values(x.actions ?? {}).map((a) => a.actionId),
          ...Object.values(x.tags ?? {}),
        ]
          .join(" ")
          .toLowerCase()
          .includes(needle),
    )
    .sort((a, b) => b.creationTime - a.creationTime);
  return (
    <section>
      <div class="title">
        <h1 tabIndex={-1}>Experiments</h1>
      </div>
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          State{" "}
          <select value={state} onChange={(e) => setState(e.currentTarget.value)}>
            {STATES.map((s) => (
              <option key={s} value={s}>
                {s || "any"}
              </option>
            ))}
          </select>
        </label>
        <label>
          Template{" "}
          <input
            value={template}
            placeholder="EXT…"
            onInput={(e) => setTemplate(e.currentTarget.value.trim())}
          />
        </label>
        <label>
          Search <input type="search" value={text} onInput={(e) => setText(e.currentTarget.value)} />
        </label>
        <label>
          <input type="checkbox" checked={previews} onChange={(e) => setPreviews(e.currentTarget.checked)} />{" "}
          show previews
        </label>
      </form>
      <Problem error={error} />
      {experiments === undefined ? (
        <p aria-busy="true">Loading…</p>
      ) : shown.length === 0 ? (
        <p>No experiment matches.</p>
      ) : (
        <div class="scroll">
          <table>
            <thead>
              <tr>
                <th scope="col">Experiment</th>
                <th scope="col">State</th>
                <th scope="col">Template</th>
                <th scope="col">Actions</th>
                <th scope="col">Started</th>
                <th scope="col">Report</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((x) => (
                <tr key={x.id}>
                  <td>
                    <a href={`#/experiments/${x.id}`}>{x.id}</a>
                    {x.experimentOptions?.actionsMode === "skip-all" ? (
                      <span class="muted"> (preview)</span>
                    ) : null}
                  </td>
                  <td>
                    <StateBadge status={x.state.status} />
                  </td>
                  <td>
                    <a href={`#/templates/${x.experimentTemplateId}`}>{x.experimentTemplateId}</a>
                  </td>
                  <td class="mono">
                    {Object.values(x.actions ?? {})
                      .map((a) => a.actionId)
                      .join(", ")}
                  </td>
                  <td>{time(x.startTime ?? x.creationTime)}</td>
                  <td>
                    {x.experimentReport?.state.status === "completed" ? (
                      <a href={`#/experiments/${x.id}`}>report</a>
                    ) : (
                      <span class="muted">{x.experimentReport?.state.status ?? "—"}</span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
