import { type CatalogText, defineFaultAction } from "./definition.ts";
import { integer, invocationPercentage } from "./parameters.ts";

/** aws:lambda:invocation-add-delay — the event reaches the handler later (fis-lambda.md §1.2). */
export const invocationAddDelay = defineFaultAction("aws:lambda:invocation-add-delay", {
  startupDelayMilliseconds: integer(0, 900_000, 1000),
  invocationPercentage,
});

export const invocationAddDelayText: CatalogText<typeof invocationAddDelay> = {
  description: "Delays starting a function for a number of milliseconds that you specify.",
  parameters: {
    startupDelayMilliseconds: "The time to wait, in milliseconds, before running the function code.",
    invocationPercentage: "The percentage of function invocations to inject the fault into.",
  },
};
