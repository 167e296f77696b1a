import type { Fault } from "./fault.ts";

/**
 * faultline:lambda:invocation-timeout — the handler runs, but its answer is held past the invocation's deadline
 * (Lambda-Runtime-Deadline-Ms), so Lambda's own timeout happens: the caller gets Sandbox.Timedout ("Task timed
 * out after N seconds") and Lambda resets the environment. Nothing is fabricated: the error, the log line and
 * the reset are Lambda's.
 */
export const invocationTimeout: Fault<"faultline:lambda:invocation-timeout"> = {
  slot: "outcome",
  inject: () => ({ kind: "outcome", preventExecution: false, outcome: { kind: "timeout" } }),
};
