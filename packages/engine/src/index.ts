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
export {
  type Clock,
  ManualClock,
  systemClock,
} from "./clock.ts";
export { Engine, type EngineOptions } from "./engine.ts";
export {
  AwsCallTimeoutError,
  CallCancelledError,
  ConflictException,
  FisError,
  InternalServerException,
  ResourceNotFoundException,
  ServiceQuotaExceededException,
  ValidationException,
} from "./errors.ts";
export {
  type ActionStateChangeEvent,
  EngineEvents,
  type ExperimentStateChangeEvent,
  type FaultObjectEvent,
  type ReportStateChangeEvent,
} from "./events.ts";
export {
  compareVersions,
  ExtensionVersionProbe,
  type LayerFinding,
  VERSION_FILE,
} from "./extension-version.ts";
export {
  type Account,
  actionArn,
  experimentArn,
  newId,
  parseFisArn,
  safetyLeverArn,
  templateArn,
} from "./ids.ts";
export {
  ACTION_LIFECYCLE,
  EXPERIMENT_LIFECYCLE,
  IllegalTransitionError,
  Lifecycle,
  SAFETY_LEVER_LIFECYCLE,
  type SafetyLeverStatus,
} from "./lifecycle.ts";
export {
  ExperimentLog,
  type ExperimentLogRecord,
  type LogType,
} from "./logs.ts";
export {
  ACTION_STATUSES,
  type ActionStatus,
  EXPERIMENT_STATUSES,
  type Experiment,
  type ExperimentAction,
  type ExperimentReport,
  type ExperimentReportConfiguration,
  type ExperimentStatus,
  type ExperimentTemplate,
  type LogConfiguration,
  type ReportStatus,
  type ResolvedTarget,
  type StopCondition,
  type StopConditionEvent,
  type TargetFilter,
  TERMINAL_ACTION,
  TERMINAL_EXPERIMENT,
  type TemplateAction,
  type TemplateBody,
  type TemplateExperimentOptions,
  type TemplateTarget,
} from "./model.ts";
export { AWS_FIS_WRAPPER, isAwsFisLayer } from "./readiness.ts";
export { SAFETY_LEVER_ID, type SafetyLever, type SafetyLeverState } from "./safety-lever.ts";
export { DataDirInUseError, type FaultObjectRecord } from "./store.ts";
export {
  DEFAULT_READINESS,
  describeProblems,
  mapLimit,
  partitionReady,
  type Readiness,
  type ReadinessOptions,
  type ResolvedFunction,
  type ResolveOptions,
  resolveTarget,
  select,
  TargetResolutionError,
} from "./targets.ts";
