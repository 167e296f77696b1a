/** The lab (faultline up): its functions, their environments (busy or frozen between invocations), recent invocations. */
import { useEffect, useState } from "preact/hooks";
import { ApiError, call, type LabSnapshot } from "../api.ts";
import { Problem } from "../ui.tsx";

const REFRESH_MS = 2000;
const SHOWN = 15;

function environmentsInWords(f: LabSnapshot["functions"][number]): string {
  if (f.environments === 0) return "no environment (the next invocation is a cold start)";
  const parts = [];
  if (f.busy > 0) parts.push(`${f.busy} running an invocation`);
  if (f.idle > 0) parts.push(`${f.idle} warm, frozen between invocations`);
  return parts.join("; ");
}

/** The lab's snapshot, refreshed every REFRESH_MS: null when the API is not running in a lab. */
function useLabSnapshot() {
  const [lab, setLab] = useState<LabSnapshot | null>();
  const [error, setError] = useState<Error>();
  useEffect(() => {
    let on = true;
    const load = async () => {
      try {
        const l = await call<LabSnapshot>("GET", "/console/api/lab");
        if (!on) return;
        setLab(l);
        setError(undefined);
      } catch (e) {
        if (!on) return;
        if (e instanceof ApiError && e.status === 404) setLab(null);
        else setError(e as Error);
      }
    };
    void load();
    const timer = setInterval(load, REFRESH_MS);
    return () => {
      on = false;
      clearInterval(timer);
    };
  }, []);
  return { lab, error };
}

export function LabPage() {
  const { lab, error } = useLabSnapshot();
  return (
    <section>
      <div class="title">
        <h1 tabIndex={-1}>Lab</h1>
      </div>
      <Problem error={error} />
      {lab === null ? (
        <p>This API is not running in the lab (it was started with faultline serve, against AWS).</p>
      ) : lab === undefined ? (
        <p aria-busy="true">Loading…</p>
      ) : (
        <>
          <h2>Functions</h2>
          <FunctionTable functions={lab.functions} />
          <h2>Recent invocations</h2>
          {lab.invocations.length === 0 ? (
            <p>None yet.</p>
          ) : (
            <InvocationTable invocations={lab.invocations} />
          )}
        </>
      )}
    </section>
  );
}

function FunctionTable({ functions }: { functions: LabSnapshot["functions"] }) {
  return (
    <div class="scroll">
      <table>
        <thead>
          <tr>
            <th scope="col">Function</th>
            <th scope="col">Runtime</th>
            <th scope="col">Environments</th>
            <th scope="col">Cold starts</th>
            <th scope="col">Tags</th>
          </tr>
        </thead>
        <tbody>
          {functions.map((f) => (
            <tr key={f.name}>
              <td>
                {f.name}
                <div class="muted mono">{f.arn}</div>
              </td>
              <td>{f.runtime}</td>
              <td>{environmentsInWords(f)}</td>
              <td>{f.created}</td>
              <td class="mono">
                {Object.entries(f.tags)
                  .map(([k, v]) => `${k}=${v}`)
                  .join(" ")}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function InvocationTable({ invocations }: { invocations: LabSnapshot["invocations"] }) {
  return (
    <div class="scroll">
      <table>
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">Function</th>
            <th scope="col">Outcome</th>
            <th scope="col">Duration</th>
          </tr>
        </thead>
        <tbody>
          {invocations.slice(0, SHOWN).map((i, n) => (
            <tr key={`${i.startMs}-${n}`}>
              <td>{new Date(i.startMs).toLocaleTimeString()}</td>
              <td>{i.functionName}</td>
              <td class={i.outcome === "success" ? "ok" : "error"}>
                {i.outcome}
                {i.coldStart ? " (cold start)" : ""}
              </td>
              <td>{i.outcome === "throttled" ? "—" : `${Math.round(i.durationMs)} ms`}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
