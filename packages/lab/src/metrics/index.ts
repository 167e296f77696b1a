export * from "./emf.ts";
export * from "./errors.ts";
export * from "./ingest.ts";
export * from "./lambda-metrics.ts";
export * from "./statistics.ts";
export * from "./store.ts";
export * from "./units.ts";
