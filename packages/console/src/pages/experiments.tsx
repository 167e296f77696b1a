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

/** Every experiment, details filled in once listed, kept current by the console's event stream. */
function useExperiments() {
  const [experiments, setExperiments] = useState<Experiment[]>();
  const [error, setError] = useState<Error>();
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
  return { experiments, error };
}

interface Filters {
  state: string;
  template: string;
  text: string;
  previews: boolean;
}

/** The filters, starting from the link's `?state=` and `?template=`. */
function useFilters() {
  const [filters, setFilters] = useState<Filters>(() => {
    const q = queryParams();
    return { state: q.get("state") ?? "", template: q.get("template") ?? "", text: "", previews: false };
  });
  const set = (change: Partial<Filters>) => setFilters((f) => ({ ...f, ...change }));
  return { filters, set };
}

/** The experiments the filters let through, newest first. */
function filtered(experiments: Experiment[], { state, template, text, previews }: Filters): Experiment[] {
  const needle = text.trim().toLowerCase();
  return experiments
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
}

export function ExperimentsPage() {
  const { experiments, error } = useExperiments();
  const { filters, set } = useFilters();
  const shown = filtered(experiments ?? [], filters);
  return (
    <section>
      <div class="title">
        <h1 tabIndex={-1}>Experiments</h1>
      </div>
      <FilterForm filters={filters} set={set} />
      <Problem error={error} />
      {experiments === undefined ? (
        <p aria-busy="true">Loading…</p>
      ) : shown.length === 0 ? (
        <p>No experiment matches.</p>
      ) : (
        <ExperimentTable experiments={shown} />
      )}
    </section>
  );
}

function FilterForm({ filters, set }: { filters: Filters; set: (change: Partial<Filters>) => void }) {
  return (
    <form class="filters" onSubmit={(e) => e.preventDefault()}>
      <label>
        State{" "}
        <select value={filters.state} onChange={(e) => set({ state: e.currentTarget.value })}>
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
          value={filters.template}
          placeholder="EXT…"
          onInput={(e) => set({ template: e.currentTarget.value.trim() })}
        />
      </label>
      <label>
        Search{" "}
        <input type="search" value={filters.text} onInput={(e) => set({ text: e.currentTarget.value })} />
      </label>
      <label>
        <input
          type="checkbox"
          checked={filters.previews}
          onChange={(e) => set({ previews: e.currentTarget.checked })}
        />{" "}
        show previews
      </label>
    </form>
  );
}

function ExperimentTable({ experiments }: { experiments: Experiment[] }) {
  return (
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
          {experiments.map((x) => (
            <ExperimentRow key={x.id} experiment={x} />
          ))}
        </tbody>
      </table>
    </div>
  );
}

function ExperimentRow({ experiment: x }: { experiment: Experiment }) {
  return (
    <tr>
      <td>
        <a href={`#/experiments/${x.id}`}>{x.id}</a>
        {x.experimentOptions?.actionsMode === "skip-all" ? <span class="muted"> (preview)</span> : null}
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
  );
}
