export {
  type ExtensionErrorReport,
  type ExtensionEventType,
  type ExtensionInfo,
  type ExtensionState,
  ExtensionsApi,
  type FunctionMetadata,
  type ShutdownReason,
} from "./registry.ts";
