// The template rules, action catalog, quotas and IAM policies: @faultline/rules, re-exported for the engine's callers.
export {
  ACTIONS,
  type ActionDescription,
  type ActionParameterDescription,
  actionDurationMs,
  type CreateTemplateInput,
  ENGINE_ACTIONS,
  ENGINE_CALLS,
  type EngineAction,
  type EngineCall,
  engineAction,
  enginePolicy,
  faultOf,
  formatDurationMs,
  functionPolicy,
  LAMBDA_RESOURCE_TYPE,
  LAMBDA_TARGET_KEY,
  normalisePrefix,
  type PolicyDocument,
  type PolicyOptions,
  parseDurationMs,
  QUOTAS,
  REPORT_WINDOW_MAX_MS,
  SUPPORTED_ACTION_IDS,
  TARGET_RESOURCE_TYPES,
  type TargetResourceTypeDescription,
  type UpdateTemplateInput,
  validateCreateTemplate,
  validateUpdateTemplate,
} from "@faultline/rules";
export * from "./clock.ts";
export { Engine, type EngineOptions } from "./engine.ts";
export * from "./errors.ts";
export * from "./events.ts";
export * from "./extension-version.ts";
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
export { AWS_FIS_WRAPPER, isAwsFisLayer } from "./readiness.ts";
export { SAFETY_LEVER_ID, type SafetyLever, type SafetyLeverState } from "./safety-lever.ts";
export { DataDirInUseError, type FaultObjectRecord } from "./store.ts";
export * from "./targets.ts";
