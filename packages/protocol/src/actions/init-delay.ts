import { type CatalogText, defineFaultAction } from "./definition.ts";
import { integer, invocationPercentage } from "./parameters.ts";

/** faultline:lambda:init-delay — a new execution environment's Init phase takes longer (Lambda's limit: 10 s). */
export const initDelay = defineFaultAction("faultline:lambda:init-delay", {
  delayMilliseconds: integer(0, 10_000, 1000),
  invocationPercentage,
});

export const initDelayText: CatalogText<typeof initDelay> = {
  description:
    "faultline only (needs faultline's extension): lengthens the Init phase of new execution environments (a cold-start slowdown), within Lambda's 10-second init limit.",
  parameters: {
    delayMilliseconds: "The time added to the Init phase, in milliseconds.",
    invocationPercentage: "The percentage of new execution environments whose Init phase is delayed.",
  },
};
