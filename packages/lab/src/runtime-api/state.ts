/**
 * The runtime's side of the Runtime API lifecycle as an explicit table (Lambda RIE style).
 * Anything not in the table is an illegal transition and is refused by construction:
 * `transition()` returns the next state or `undefined`, and the route answers 403 InvalidStateTransition.
 */
export type RuntimeState =
  /** Process started, initialising: no /next yet. */
  | "started"
  /** The runtime posted /init/error: it is expected to exit. */
  | "init-error"
  /** Parked in GET /next (or about to be): no invocation in flight. */
  | "ready"
  /** An invocation was handed out; waiting for /response or /error. */
  | "invoking"
  /** A response body is being received (streamed or buffered). */
  | "responding"
  /** The response or error has been accepted; the next /next moves back to ready. */
  | "response-sent";

export type RuntimeEvent = "next" | "init-error" | "response" | "response-done" | "error";

const transitions: Record<RuntimeState, Partial<Record<RuntimeEvent, RuntimeState>>> = {
  started: { next: "ready", "init-error": "init-error" },
  "init-error": {},
  ready: {},
  invoking: { response: "responding", error: "response-sent" },
  responding: { "response-done": "response-sent" },
  "response-sent": { next: "ready" },
};

/** Internal, platform-driven move: an event handed to the parked runtime. Not reachable from HTTP. */
export const DISPATCH: { from: RuntimeState; to: RuntimeState } = { from: "ready", to: "invoking" };

export function transition(from: RuntimeState, event: RuntimeEvent): RuntimeState | undefined {
  return transitions[from][event];
}

/** RIE's names for the states, used in InvalidStateTransition messages. */
export const stateNames: Record<RuntimeState, string> = {
  started: "Started",
  "init-error": "InitError",
  ready: "Ready",
  invoking: "Running",
  responding: "InvocationResponse",
  "response-sent": "ResponseSent",
};

export const eventTargetNames: Record<RuntimeEvent, string> = {
  next: "Ready",
  "init-error": "InitError",
  response: "InvocationResponse",
  "response-done": "ResponseSent",
  error: "InvocationErrorResponse",
};
