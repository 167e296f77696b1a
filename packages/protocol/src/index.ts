export * from "./actions.ts";
export * from "./errors.ts";
export * from "./fault-config.ts";
export * from "./location.ts";
export * from "./version.ts";
