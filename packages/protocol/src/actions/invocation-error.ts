import { type CatalogText, defineFaultAction } from "./definition.ts";
import { boolean, invocationPercentage } from "./parameters.ts";

/** aws:lambda:invocation-error — the invocation fails, with or without running the handler (fis-lambda.md §1.3). */
export const invocationError = defineFaultAction("aws:lambda:invocation-error", {
  preventExecution: boolean(),
  invocationPercentage,
});

export const invocationErrorText: CatalogText<typeof invocationError> = {
  description: "Marks Lambda function invocations as failed.",
  parameters: {
    preventExecution: 'If "true", return the error without running the function; if "false", run it first.',
    invocationPercentage: "The percentage of function invocations to inject the fault into.",
  },
};
