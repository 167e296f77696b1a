export { type Clock, type RandomSource, seededRandom, systemClock } from "./clock.ts";
export { ExtensionsApiError, SettingsError, StoreError, UpstreamError } from "./errors.ts";
export { EXTENSION_NAME, type ExtensionOptions, type RunningExtension, startExtension } from "./extension.ts";
export { FAULT_ERROR_TYPE, FAULTS } from "./faults/index.ts";
export { type InvocationIdentity, type Plan, planInvocation, qualifierMatches, roll } from "./injector.ts";
export { LOG_PREFIX, Logger, METRICS_NAMESPACE } from "./log.ts";
export { FaultPoller } from "./poller.ts";
export { type ObjectStore, S3ObjectStore } from "./s3.ts";
export { DEFAULT_POLL_MAX_WAIT_MS, readSettings, type Settings } from "./settings.ts";
