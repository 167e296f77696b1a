/**
 * One experiment, live (server-sent events): its state, each action on a timeline, the per-second metrics of its
 * targets, the stop button, its log; once finished, its report (HTML in the page, PDF download).
 */
import { useEffect, useState } from "preact/hooks";
import { call, type Experiment, enc, type Metrics, TERMINAL, time } from "../api.ts";
import { MetricsChart } from "../chart.tsx";
import { Problem, StateBadge } from "../ui.tsx";

interface LogRecord {
  log_type?: string;
  event_timestamp?: string;
  details?: Record<string, unknown>;
}

function Timeline({ x, nowMs }: { x: Experiment; nowMs: number }) {
  const from = (x.startTime ?? x.creationTime) * 1000;
  const actions = Object.entries(x.actions ?? {});
  const to = Math.max(
    from + 1000,
    x.endTime ? x.endTime * 1000 : nowMs,
    ...actions.map(([, a]) => (a.endTime ?? 0) * 1000),
  );
  const pct = (ms: number) => `${(100 * (ms - from)) / (to - from)}%`;
  return (
    <ol class="timeline" aria-label="Actions on a timeline">
      {actions.map(([name, a]) => {
        const s = a.startTime ? a.startTime * 1000 : undefined;
        const e = a.endTime ? a.endTime * 1000 : s !== undefined ? nowMs : undefined;
        return (
          <li key={name}>
            <span class="t-name">
              {name} <span class="muted mono">{a.actionId}</span>
            </span>
            <span class="t-track">
              {s !== undefined && e !== undefined ? (
                <span
                  class={`t-bar s-${a.state.status}`}
                  style={{ left: pct(s), width: `calc(${pct(e)} - ${pct(s)} + 2px)` }}
                />
              ) : null}
            </span>
            <span>
              <StateBadge status={a.state.status} /> <span class="muted">{a.state.reason}</span>
            </span>
          </li>
        );
      })}
    </ol>
  );
}

/** The experiment, its metrics and its log, live from the event stream (GetExperiment answers first). */
function useExperimentStream(id: string) {
  const [x, setX] = useState<Experiment>();
  const [metrics, setMetrics] = useState<Metrics>();
  const [log, setLog] = useState<LogRecord[]>([]);
  const [error, setError] = useState<Error>();
  const [connected, setConnected] = useState(false);
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    setLog([]);
    const events = new EventSource(`/console/api/events?experimentId=${enc(id)}`);
    const data = <T,>(e: Event) => JSON.parse((e as MessageEvent<string>).data) as T;
    events.onopen = () => setConnected(true);
    events.onerror = () => setConnected(false);
    events.addEventListener("experiment", (e) => setX(data<Experiment>(e)));
    events.addEventListener("metrics", (e) => setMetrics(data<Metrics>(e)));
    events.addEventListener("log", (e) => setLog((l) => [...l, ...data<LogRecord[]>(e)]));
    // The stream answers 404 for an unknown id: EventSource cannot read it, GetExperiment can.
    call<{ experiment: Experiment }>("GET", `/experiments/${enc(id)}`)
      .then((r) => setX((cur) => cur ?? r.experiment))
      .catch(setError);
    const tick = setInterval(() => setNow(Date.now()), 1000);
    return () => {
      events.close();
      clearInterval(tick);
    };
  }, [id]);
  return { x, setX, metrics, log, error, setError, connected, now };
}

/** The finished experiment's report: in the page with its links, its state, or a button to build one. */
function ReportSection({ x, onError }: { x: Experiment; onError: (e: Error) => void }) {
  const id = x.id;
  const report = x.experimentReport?.state;
  const href = (format: string) => `/faultline/experiments/${enc(id)}/report?format=${format}`;
  const buildReport = () => call("POST", `/faultline/experiments/${enc(id)}/report`).catch(onError);
  return (
    <section aria-labelledby="report-h">
      <h2 id="report-h">Report</h2>
      {report?.status === "completed" ? (
        <>
          <p>
            <a href={href("html")} target="_blank" rel="noopener">
              Open the HTML report
            </a>{" "}
            ·{" "}
            <a href={href("pdf")} download={`${id}.pdf`}>
              Download the PDF
            </a>
          </p>
          <iframe class="report" title={`Report of experiment ${id}`} src={href("html")} sandbox="" />
        </>
      ) : report ? (
        <p>
          Report {report.status}
          {report.reason ? `: ${report.reason}` : ""}
        </p>
      ) : (
        <p>
          This experiment's template asked for no report.{" "}
          <button type="button" onClick={buildReport}>
            Build a report now
          </button>
        </p>
      )}
    </section>
  );
}

function ExperimentLog({ log }: { log: LogRecord[] }) {
  if (log.length === 0) return <p class="muted">No log lines yet.</p>;
  return (
    <ol class="log" aria-live="polite">
      {log.map((r, i) => (
        <li key={i}>
          <span class="mono muted">{r.event_timestamp?.slice(11, 23)}</span> <strong>{r.log_type}</strong>{" "}
          <span class="mono">{summary(r.details)}</span>
        </li>
      ))}
    </ol>
  );
}

export function ExperimentPage({ id }: { id: string }) {
  const { x, setX, metrics, log, error, setError, connected, now } = useExperimentStream(id);
  const stop = async () => {
    try {
      const { experiment } = await call<{ experiment: Experiment }>("DELETE", `/experiments/${enc(id)}`);
      // The stream may already have said `stopped`: the answer's `stopping` must not take the page back.
      setX((cur) => (cur && TERMINAL.has(cur.state.status) ? cur : experiment));
    } catch (e) {
      setError(e as Error);
    }
  };
  const ended = x ? TERMINAL.has(x.state.status) : false;
  const preview = x?.experimentOptions?.actionsMode === "skip-all";
  return (
    <section>
      <div class="title">
        <h1 tabIndex={-1}>
          Experiment {id} {x ? <StateBadge status={x.state.status} /> : null}
        </h1>
        <div class="buttons">
          {x && !ended ? (
            <button type="button" class="danger" onClick={stop} disabled={x.state.status === "stopping"}>
              Stop experiment
            </button>
          ) : null}
        </div>
      </div>
      <Problem error={error} />
      {x ? (
        <>
          <p aria-live="polite" data-testid="state">
            <strong>{x.state.status}</strong>: {x.state.reason}
            {x.state.error ? <span class="error"> ({x.state.error.code})</span> : null}
            <span class="muted">
              {" "}
              · template <a href={`#/templates/${x.experimentTemplateId}`}>{x.experimentTemplateId}</a> ·
              started {time(x.startTime)} · ended {time(x.endTime)} · {connected ? "live" : "reconnecting…"}
            </span>
          </p>
          <h2>Actions</h2>
          <Timeline x={x} nowMs={now} />
          {preview ? null : (
            <>
              <h2>Targets, per second</h2>
              {metrics ? <MetricsChart metrics={metrics} /> : <p aria-busy="true">Waiting for metrics…</p>}
            </>
          )}
          {ended && !preview ? <ReportSection x={x} onError={setError} /> : null}
          <h2>Experiment log</h2>
          <ExperimentLog log={log} />
        </>
      ) : error ? null : (
        <p aria-busy="true">Loading…</p>
      )}
    </section>
  );
}

function summary(details: Record<string, unknown> | undefined): string {
  if (!details) return "";
  const text = JSON.stringify(details);
  return text.length > 240 ? `${text.slice(0, 240)}…` : text;
}
