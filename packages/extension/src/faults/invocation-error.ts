import type { Fault } from "./fault.ts";

/** The errorType callers see (Invoke: FunctionError "Unhandled"; payload `{errorType, errorMessage, trace}`). */
export const FAULT_ERROR_TYPE = "FaultInjectionError";

/** aws:lambda:invocation-error — the invocation fails, with or without running the handler. */
export const invocationError: Fault<"aws:lambda:invocation-error"> = {
  slot: "outcome",
  inject: (parameters, fault) => ({
    kind: "outcome",
    preventExecution: parameters.preventExecution,
    outcome: {
      kind: "error",
      errorType: FAULT_ERROR_TYPE,
      body: Buffer.from(
        JSON.stringify({
          errorType: FAULT_ERROR_TYPE,
          errorMessage: `Injected by faultline: ${fault.actionId} (experiment ${fault.experimentId}, action ${fault.actionName})`,
          trace: [],
        }),
      ),
    },
  }),
};
