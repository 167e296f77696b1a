import type { LambdaActionId } from "@faultline/protocol";
import { addDelay } from "./add-delay.ts";
import type { Fault } from "./fault.ts";
import { httpIntegrationResponse } from "./http-integration-response.ts";
import { initDelay } from "./init-delay.ts";
import { invocationError } from "./invocation-error.ts";
import { invocationTimeout } from "./invocation-timeout.ts";
import { responseCorruption } from "./response-corruption.ts";
import { responseDelay } from "./response-delay.ts";

export type { Corruption, Fault, Injection, Outcome, Posted, Slot } from "./fault.ts";
export { FAULT_ERROR_TYPE } from "./invocation-error.ts";
export { corrupt } from "./response-corruption.ts";

/** Every fault the extension injects, by action id. Adding a fault = one file + one line here. */
export const FAULTS: { readonly [K in LambdaActionId]: Fault<K> } = {
  "aws:lambda:invocation-add-delay": addDelay,
  "aws:lambda:invocation-error": invocationError,
  "aws:lambda:invocation-http-integration-response": httpIntegrationResponse,
  "faultline:lambda:invocation-timeout": invocationTimeout,
  "faultline:lambda:response-delay": responseDelay,
  "faultline:lambda:response-corruption": responseCorruption,
  "faultline:lambda:init-delay": initDelay,
};
