export { FAULT_ACTION_TEXT } from "./actions/catalog.ts";
export {
  type CatalogText,
  FAULTLINE_NAMESPACE,
  type FaultActionDefinition,
  FUNCTIONS_TARGET,
  isFaultlineOnly,
} from "./actions/definition.ts";
export {
  type DefinitionOf,
  FAULT_ACTION_IDS,
  FAULT_ACTIONS,
  type FaultAction,
  type FaultActionId,
  /** Every fault action targets Lambda functions. */
  type FaultActionId as LambdaActionId,
  type FaultParameters,
  faultActionDefinition,
  faultActionFromFisParameters,
  faultActionFromJson,
  isFaultActionId,
} from "./actions/index.ts";
export type { ParameterSpec } from "./actions/parameters.ts";
export * from "./errors.ts";
export * from "./fault-config.ts";
export * from "./location.ts";
export * from "./version.ts";
