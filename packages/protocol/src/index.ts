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
export {
  ConfigurationLocationError,
  FaultConfigError,
  ScenarioError,
} from "./errors.ts";
export {
  type ActiveFault,
  FAULT_CONFIG_VERSION,
  type FaultConfig,
  newFaultConfig,
  parseFaultConfig,
  serializeFaultConfig,
  validateFaultConfig,
} from "./fault-config.ts";
export {
  type ConfigurationLocation,
  changeMarkerKey,
  changeMarkerKeyOf,
  faultObjectKey,
  formatConfigurationLocation,
  functionPrefix,
  parseConfigurationLocation,
} from "./location.ts";
export { FAULTLINE_VERSION } from "./version.ts";
