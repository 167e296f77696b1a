export {
  deepJson,
  describeRequest,
  type FuzzOptions,
  fuzzServer,
  generatedRequests,
  type HostileRequest,
  hostileCorpus,
  isParserRefusal,
  type RawReply,
  sendRaw,
} from "./hostile-http.ts";
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
export {
  awsCliV1,
  awsCliV2,
  chromium,
  executablesOnPath,
  findTool,
  motoServer,
  type Tool,
  type ToolSpec,
} from "./tools.ts";
