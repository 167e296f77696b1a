import type { LambdaActionId } from "@faultline/protocol";
import { addDelay } from "./add-delay.ts";
import type { Fault } from "./fault.ts";
import { httpIntegrationResponse } from "./http-integration-response.ts";
import { invocationError } from "./invocation-error.ts";

export type { Fault, Injection, Outcome, Slot } from "./fault.ts";
export { FAULT_ERROR_TYPE } from "./invocation-error.ts";

/**
 * Every fault the extension injects, by action id. Adding a fault = one file + one line here. A fault object
 * whose action has no entry (yet) parses, and is passed over by the injector.
 */
export const FAULTS: { readonly [K in LambdaActionId]?: Fault<K> } = {
  "aws:lambda:invocation-add-delay": addDelay,
  "aws:lambda:invocation-error": invocationError,
  "aws:lambda:invocation-http-integration-response": httpIntegrationResponse,
};
