/**
 * The engine's template rules and IAM policies without the engine: no AWS SDK, no SQLite. What
 * `@faultline/cdk` checks at synth time is exactly what CreateExperimentTemplate checks here.
 */
export { parseDurationMs } from "./duration.ts";
export { ServiceQuotaExceededException, ValidationException } from "./errors.ts";
export { functionPolicy, normalisePrefix, type PolicyDocument, type PolicyOptions } from "./iam.ts";
export type { TemplateBody } from "./model.ts";
export { type CreateTemplateInput, REPORT_WINDOW_MAX_MS, validateCreateTemplate } from "./template.ts";
