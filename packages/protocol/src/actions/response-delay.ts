import { type CatalogText, defineFaultAction } from "./definition.ts";
import { integer, invocationPercentage } from "./parameters.ts";

/** faultline:lambda:response-delay — the handler runs; its response is held before it reaches the caller. */
export const responseDelay = defineFaultAction("faultline:lambda:response-delay", {
  delayMilliseconds: integer(0, 900_000, 1000),
  invocationPercentage,
});

export const responseDelayText: CatalogText<typeof responseDelay> = {
  description:
    "faultline only (needs faultline's extension): holds the function's response for a number of milliseconds after the function code has run (tail latency), before it reaches the caller.",
  parameters: {
    delayMilliseconds: "The time to hold the response, in milliseconds.",
    invocationPercentage: "The percentage of function invocations to inject the fault into.",
  },
};
