export * from "./apigateway/index.ts";
export { awsAccess } from "./aws-access.ts";
export * from "./config.ts";
export type * from "./contract.ts";
export { DynamoDbSetupError, type RunningDynamoDb, startDynamoDb, type TableSpec } from "./dynamodb.ts";
export {
  createEnvironmentFactory,
  type EnvironmentFactoryOptions,
} from "./environment/index.ts";
export * from "./errors.ts";
export { type Lab, type LabConfigSource, type StartLabOptions, startLab } from "./lab.ts";
export {
  createLambdaApiServer,
  type LambdaApiContext,
  routes as lambdaApiRoutes,
  startLambdaApi,
} from "./lambda-api/index.ts";
export { type LogEvent, type LogListener, type LogQuery, LogStore, logGroupName } from "./logs.ts";
export * from "./metrics/index.ts";
export {
  FunctionPool,
  type InvocationRecord,
  type PoolOptions,
  type PoolStats,
  type Timers,
} from "./pool.ts";
export { type RunningS3, S3_CREDENTIALS, type S3Options, startS3 } from "./s3.ts";
