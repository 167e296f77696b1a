/**
 * The engine's template rules and IAM policies without the engine: no AWS SDK, no SQLite. What
 * `@faultline/cdk` checks at synth time is exactly what CreateExperimentTemplate checks in the engine.
 */
export {
  ACTIONS,
  type ActionDescription,
  type ActionParameterDescription,
  ENGINE_ACTIONS,
  type EngineAction,
  engineAction,
  faultOf,
  SUPPORTED_ACTION_IDS,
  TARGET_RESOURCE_TYPES,
  type TargetResourceTypeDescription,
} from "./catalog.ts";
export { formatDurationMs, parseDurationMs } from "./duration.ts";
export {
  ConflictException,
  FisError,
  InternalServerException,
  ResourceNotFoundException,
  ServiceQuotaExceededException,
  ValidationException,
} from "./errors.ts";
export {
  ENGINE_CALLS,
  type EngineCall,
  enginePolicy,
  functionPolicy,
  normalisePrefix,
  type PolicyDocument,
  type PolicyOptions,
} from "./iam.ts";
export type {
  ExperimentReportConfiguration,
  LogConfiguration,
  StopCondition,
  TargetFilter,
  TemplateAction,
  TemplateBody,
  TemplateExperimentOptions,
  TemplateTarget,
} from "./model.ts";
export { QUOTAS } from "./quotas.ts";
export { shape, str, stringMap, tagMap, token } from "./shapes.ts";
export {
  actionDurationMs,
  type CreateTemplateInput,
  LAMBDA_RESOURCE_TYPE,
  LAMBDA_TARGET_KEY,
  REPORT_WINDOW_MAX_MS,
  type UpdateTemplateInput,
  validateCreateTemplate,
  validateUpdateTemplate,
} from "./template.ts";
