export * from "./catalog.ts";
export * from "./clock.ts";
export * from "./duration.ts";
export { Engine, type EngineOptions } from "./engine.ts";
export * from "./errors.ts";
export * from "./events.ts";
export * from "./extension-version.ts";
export {
  ENGINE_CALLS,
  type EngineCall,
  enginePolicy,
  functionPolicy,
  normalisePrefix,
  type PolicyDocument,
  type PolicyOptions,
} from "./iam.ts";
export * from "./ids.ts";
export {
  ACTION_LIFECYCLE,
  EXPERIMENT_LIFECYCLE,
  IllegalTransitionError,
  Lifecycle,
  SAFETY_LEVER_LIFECYCLE,
  type SafetyLeverStatus,
} from "./lifecycle.ts";
export * from "./logs.ts";
export * from "./model.ts";
export * from "./quotas.ts";
export { AWS_FIS_WRAPPER, isAwsFisLayer } from "./readiness.ts";
export { SAFETY_LEVER_ID, type SafetyLever, type SafetyLeverState } from "./safety-lever.ts";
export { DataDirInUseError, type FaultObjectRecord } from "./store.ts";
export * from "./targets.ts";
export * from "./template.ts";
