/**
 * The safety lever (FIS's GetSafetyLever / UpdateSafetyLeverState): its state on every page; engaging stops
 * every running experiment and refuses new ones until it is disengaged. Hidden when the API has no lever (404).
 */
import { useEffect, useState } from "preact/hooks";
import { ApiError, call, type SafetyLever } from "./api.ts";

const LEVER = "/safetyLevers/default";
const POLL_MS = 5000;

export function LeverBar() {
  const [lever, setLever] = useState<SafetyLever | null | undefined>(undefined);
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState("");
  const [error, setError] = useState<string>();
  const load = async () => {
    try {
      setLever((await call<{ safetyLever: SafetyLever }>("GET", LEVER)).safetyLever);
    } catch (e) {
      // No lever in this API (404): hide it; anything else stays visible as unknown.
      setLever(e instanceof ApiError && e.status === 404 ? null : undefined);
    }
  };
  useEffect(() => {
    void load();
    const timer = setInterval(load, POLL_MS);
    addEventListener("faultline:lever", load);
    return () => {
      clearInterval(timer);
      removeEventListener("faultline:lever", load);
    };
  }, []);
  if (!lever) return null;
  const engaged = lever.state.status !== "disengaged";
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    try {
      const status = engaged ? "disengaged" : "engaged";
      const out = await call<{ safetyLever: SafetyLever }>("PATCH", `${LEVER}/state`, {
        state: { status, reason },
      });
      setLever(out.safetyLever);
      setOpen(false);
      setReason("");
      dispatchEvent(new Event("faultline:lever"));
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <div class={`lever ${engaged ? "engaged" : ""}`} role="status" aria-live="polite">
      <span>
        Safety lever: <strong>{lever.state.status}</strong>
        {lever.state.reason ? <span class="muted"> — {lever.state.reason}</span> : null}
      </span>
      {open ? (
        <form onSubmit={submit} class="inline">
          <label>
            Reason{" "}
            <input
              value={reason}
              required
              onInput={(e) => setReason(e.currentTarget.value)}
              ref={(el) => el?.focus()}
            />
          </label>
          <button type="submit" class={engaged ? "" : "danger"}>
            {engaged ? "Disengage" : "Engage (stops every experiment)"}
          </button>
          <button type="button" onClick={() => setOpen(false)}>
            Cancel
          </button>
          {error ? (
            <span role="alert" class="error">
              {error}
            </span>
          ) : null}
        </form>
      ) : (
        <button type="button" onClick={() => setOpen(true)}>
          {engaged ? "Disengage…" : "Engage…"}
        </button>
      )}
    </div>
  );
}
