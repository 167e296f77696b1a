export { type CollectedLine, CollectingLogSink } from "./log-sink.ts";
export { labOwnedProcesses } from "./processes.ts";
export {
  type ConformanceHarness,
  type ConformanceInput,
  type ConformanceOptions,
  type ConformanceOutcome,
  type ConformanceTarget,
  conformanceTargetFromEnvironment,
  invokeOverHttp,
  makeInput,
  type RawResponse,
  rawRequest,
  runtimeApiConformance,
} from "./runtime-api-conformance.ts";
export { type S3ConformanceTarget, s3Conformance } from "./s3-conformance.ts";
