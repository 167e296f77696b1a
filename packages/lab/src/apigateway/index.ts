export { type PayloadFormatVersion, toV1Event, toV2Event } from "./events.ts";
export { type HttpAnswer, mapFunctionResult } from "./responses.ts";
export {
  type CompiledRoute,
  compileRoute,
  matchRoute,
  ROUTE_METHODS,
  type RouteMethod,
  type RouteSpec,
} from "./routes.ts";
export {
  API_GATEWAY_NAMESPACE,
  API_PAYLOAD_LIMIT,
  type ApiGatewayContext,
  type ApiSpec,
  apiIdOf,
  type RunningApi,
  startApiGateway,
} from "./server.ts";
