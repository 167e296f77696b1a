import { type CatalogText, defineFaultAction } from "./definition.ts";
import { invocationPercentage } from "./parameters.ts";

/** faultline:lambda:invocation-timeout — the invocation hangs until the function's deadline (Sandbox.Timedout). */
export const invocationTimeout = defineFaultAction("faultline:lambda:invocation-timeout", {
  invocationPercentage,
});

export const invocationTimeoutText: CatalogText<typeof invocationTimeout> = {
  description:
    "faultline only (needs faultline's extension): the invocation hangs until the function times out; the caller sees Lambda's own timeout error (Sandbox.Timedout) and the execution environment is reset.",
  parameters: {
    invocationPercentage: "The percentage of function invocations to inject the fault into.",
  },
};
