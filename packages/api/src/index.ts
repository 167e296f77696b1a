export {
  ENGINE_CALLS,
  enginePolicy,
  functionPolicy,
  type PolicyDocument,
  type PolicyOptions,
} from "@faultline/engine";
export type { ConsoleOptions, LabView } from "./console.ts";
export type { ExperimentMetrics, LabSnapshot } from "./console-types.ts";
export {
  forbidden,
  HttpError,
  notFound,
  tooLarge,
  unsupportedMedia,
} from "./errors.ts";
export { type ApiResponse, renderError } from "./render.ts";
export { matchRoute, ROUTES, type Route } from "./routes.ts";
export { type Faultline, type ServeOptions, serveFaultline } from "./serve.ts";
export { type ApiOptions, type ApiRequest, createApi, type RunningApi, startApi } from "./server.ts";
