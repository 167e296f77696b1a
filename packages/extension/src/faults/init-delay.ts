import type { Fault } from "./fault.ts";

/**
 * faultline:lambda:init-delay — a new execution environment's Init phase takes `delayMilliseconds` longer: the
 * runtime's first `next` (which ends Init) is held. Rolled once per environment; counts in the REPORT's Init
 * Duration and against Lambda's 10 s Init limit, which stays Lambda's to enforce.
 */
export const initDelay: Fault<"faultline:lambda:init-delay"> = {
  slot: "init",
  inject: (parameters) => ({ kind: "init", milliseconds: parameters.delayMilliseconds }),
};
