export * from "./errors.ts";
export { type ApiResponse, renderError } from "./render.ts";
export { matchRoute, ROUTES, type Route } from "./routes.ts";
export { type ApiOptions, type ApiRequest, createApi, type RunningApi, startApi } from "./server.ts";
