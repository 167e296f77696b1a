export type { Handler, Route } from "./http.ts";
export { accepted, dispatch, header, readBody, renderError, renderJson } from "./http.ts";
export {
  type DispatchedInvocation,
  type InitErrorReport,
  type InvokeOptions,
  MAX_PAYLOAD_BYTES,
  type RuntimeApiOptions,
  RuntimeApiServer,
  type RuntimeResult,
  responseTooLarge,
  startRuntimeApi,
} from "./server.ts";
export { type RuntimeEvent, type RuntimeState, transition } from "./state.ts";
