import type { Fault } from "./fault.ts";

/**
 * faultline:lambda:response-delay — the handler runs; its answer (response or error, buffered or streamed) is
 * held `delayMilliseconds` before it reaches Lambda: tail latency after the work is done, unlike add-delay.
 */
export const responseDelay: Fault<"faultline:lambda:response-delay"> = {
  slot: "hold",
  inject: (parameters) => ({ kind: "hold", milliseconds: parameters.delayMilliseconds }),
};
