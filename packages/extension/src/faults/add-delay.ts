import type { Fault } from "./fault.ts";

/** aws:lambda:invocation-add-delay — the event reaches the runtime later; the time is billed. */
export const addDelay: Fault<"aws:lambda:invocation-add-delay"> = {
  slot: "delay",
  inject: (parameters) => ({ kind: "delay", milliseconds: parameters.startupDelayMilliseconds }),
};
