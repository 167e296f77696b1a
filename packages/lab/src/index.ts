export {
  type ApiGatewayContext,
  type ApiSpec,
  apiIdOf,
  compileRoute,
  mapFunctionResult,
  matchRoute,
  type RouteSpec,
  type RunningApi,
  startApiGateway,
} from "./apigateway/index.ts";
export { awsAccess } from "./aws-access.ts";
export {
  DEFAULT_CONCURRENT_EXECUTIONS,
  DEFAULT_IDLE_TIMEOUT_SECONDS,
  DEFAULT_MEMORY_MB,
  DEFAULT_TIMEOUT_SECONDS,
  type LabConfig,
  type LabConfigInput,
  loadLabConfig,
  parseLabConfig,
  SUPPORTED_RUNTIMES,
} from "./config.ts";
export type * from "./contract.ts";
export { DynamoDbSetupError, type RunningDynamoDb, startDynamoDb, type TableSpec } from "./dynamodb.ts";
export {
  createEnvironmentFactory,
  type EnvironmentFactoryOptions,
} from "./environment/index.ts";
export {
  AccessDeniedError,
  type ConfigIssue,
  InvalidParameterValueError,
  LabConfigError,
  LambdaApiError,
  RequestTooLargeError,
  ResourceNotFoundError,
  ServiceError,
  type ThrottleReason,
  TooManyRequestsError,
  UnknownOperationError,
} from "./errors.ts";
export { type Lab, type LabConfigSource, type StartLabOptions, startLab } from "./lab.ts";
export {
  createLambdaApiServer,
  type LambdaApiContext,
  routes as lambdaApiRoutes,
  startLambdaApi,
} from "./lambda-api/index.ts";
export { type LogEvent, type LogListener, type LogQuery, LogStore, logGroupName } from "./logs.ts";
export {
  type CloudWatchServer,
  type CloudWatchService,
  createCloudWatchService,
  LAMBDA_NAMESPACE,
  MetricStore,
  startCloudWatchServer,
} from "./metrics/index.ts";
export {
  FunctionPool,
  type InvocationRecord,
  type PoolOptions,
  type PoolStats,
  type Timers,
} from "./pool.ts";
export { type RunningS3, S3_CREDENTIALS, type S3Options, startS3 } from "./s3.ts";
