/**
 * startLab: validate the config, start S3, one pool per function, and the Lambda API — in that order, undoing
 * what started if a later step fails. `stop()` shuts every environment down and closes the servers.
 */

import { type RunningApi, startApiGateway } from "./apigateway/index.ts";
import { type LabConfig, type LabConfigInput, loadLabConfig, parseLabConfig } from "./config.ts";
import type { EnvironmentFactory, LabServices } from "./contract.ts";
import { type RunningDynamoDb, startDynamoDb } from "./dynamodb.ts";
import { createEnvironmentFactory, type EnvironmentFactoryOptions } from "./environment/index.ts";
import { type RunningServer, startLambdaApi } from "./lambda-api/index.ts";
import { LogStore } from "./logs.ts";
import {
  type CloudWatchServer,
  ingestEmf,
  MetricStore,
  recordInvocation,
  startCloudWatchServer,
} from "./metrics/index.ts";
import { FunctionPool, type InvocationRecord, type Timers } from "./pool.ts";
import { type RunningS3, S3_CREDENTIALS, startS3 } from "./s3.ts";

export interface StartLabOptions {
  /** How environments are made; defaults to the real one (processes, Runtime API, extensions). */
  environmentFactory?: EnvironmentFactory;
  /** Options of the real environment factory (sandbox mode, init timeout, shutdown grace…). */
  environmentOptions?: EnvironmentFactoryOptions;
  /** Interface for every server; 127.0.0.1 unless you mean to expose the lab. */
  host?: string;
  /** Base directory for relative paths of an inline config object (default: cwd). */
  baseDir?: string;
  /** Directory for S3 objects; a temporary one (deleted on stop) when omitted. */
  s3Directory?: string;
  /** Extra variables for every environment. */
  environment?: Record<string, string>;
  /** Idle expiry timers (tests). */
  timers?: Timers;
}

export interface Lab {
  endpoints: {
    lambda: string;
    s3: string;
    cloudwatch: string;
    /** Base URL of each API front by name (requests go to `${url}/orders/1`). */
    apis: Record<string, string>;
    /** The local DynamoDB, when the config has `dynamodb`. */
    dynamodb?: string;
  };
  config: LabConfig;
  logs: LogStore;
  /** One-second metrics: AWS/Lambda per function and every EMF line functions and extensions print. */
  metrics: MetricStore;
  /** What every environment gets injected (S3 endpoint, credentials, region…). */
  services: LabServices;
  /** A function's pool (stats: environments, created…), or undefined. */
  pool(functionName: string): FunctionPool | undefined;
  /** Every request's record (duration, error, throttled, cold start, concurrency); returns the unsubscribe. */
  onInvocation(listener: (record: InvocationRecord) => void): () => void;
  /** Shuts every environment down (no process left behind) and closes the servers. Idempotent. */
  stop(): Promise<void>;
}

/** A validated config, a path to a JSON file, or an inline config object. */
export type LabConfigSource = string | LabConfig | LabConfigInput;

export async function startLab(source: LabConfigSource, options: StartLabOptions = {}): Promise<Lab> {
  const config = resolveConfig(source, options);
  const host = options.host ?? "127.0.0.1";
  const factory = options.environmentFactory ?? createEnvironmentFactory(options.environmentOptions);
  const logs = new LogStore();
  const cleanups: Array<() => Promise<void>> = [];
  const undo = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  };
  try {
    const s3: RunningS3 = await startS3({
      buckets: config.buckets,
      port: config.ports.s3,
      host,
      ...(options.s3Directory ? { directory: options.s3Directory } : {}),
    });
    cleanups.push(() => s3.close());

    // Metrics as CloudWatch keeps them, served over CloudWatch's own API so the engine and reports have one
    // code path for the lab and AWS.
    const metrics = new MetricStore();
    const stopEmf = ingestEmf(logs, metrics);
    cleanups.push(async () => stopEmf());
    const cloudwatch: CloudWatchServer = await startCloudWatchServer(metrics, undefined, {
      host,
      port: config.ports.cloudwatch,
      region: config.region,
      accountId: config.accountId,
    });
    cleanups.push(() => cloudwatch.close());
    // The config's alarms and dashboards, as if put with PutMetricAlarm / PutDashboard.
    for (const alarm of config.alarms ?? []) cloudwatch.service.putAlarm(alarm);
    for (const d of config.dashboards ?? []) cloudwatch.service.putDashboard(d.name, d.body);

    let dynamodb: RunningDynamoDb | undefined;
    if (config.dynamodb) {
      dynamodb = await startDynamoDb({
        tables: config.dynamodb.tables,
        port: config.dynamodb.port,
        host,
        region: config.region,
      });
      cleanups.push(() => dynamodb!.close());
    }

    const services: LabServices = {
      s3Endpoint: s3.endpoint,
      extraEnvironment: {
        AWS_ENDPOINT_URL_S3: s3.endpoint,
        AWS_ENDPOINT_URL_CLOUDWATCH: cloudwatch.url,
        ...(dynamodb ? { AWS_ENDPOINT_URL_DYNAMODB: dynamodb.endpoint } : {}),
        AWS_ACCESS_KEY_ID: S3_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: S3_CREDENTIALS.secretAccessKey,
        AWS_DEFAULT_REGION: config.region,
        // Marks every process of this lab, so stray ones can be found (scripts/run-tests.mjs checks).
        FAULTLINE_LAB_OWNER: String(process.pid),
        ...(process.env.FAULTLINE_TEST_RUN ? { FAULTLINE_TEST_RUN: process.env.FAULTLINE_TEST_RUN } : {}),
        ...options.environment,
      },
    };

    const invocationListeners = new Set<(record: InvocationRecord) => void>();
    const onInvocation = (record: InvocationRecord) => {
      recordInvocation(metrics, record);
      for (const listener of invocationListeners) listener(record);
    };
    const pools = new Map<string, FunctionPool>();
    for (const spec of config.functions) {
      pools.set(
        spec.name,
        new FunctionPool({
          spec,
          factory,
          services,
          logSink: logs,
          idleTimeoutMs: config.idleTimeoutSeconds * 1000,
          onInvocation,
          ...(options.timers ? { timers: options.timers } : {}),
        }),
      );
    }
    cleanups.push(async () => {
      await Promise.allSettled([...pools.values()].map((pool) => pool.stop()));
    });

    const lambda: RunningServer = await startLambdaApi(
      { region: config.region, accountId: config.accountId, pools, startedAt: new Date() },
      { host, port: config.ports.lambda },
    );
    // Stop accepting invocations before the pools go down.
    cleanups.push(() => lambda.close());
    // Functions calling Lambda reach the lab. No environment exists yet, so every one sees it.
    services.extraEnvironment.AWS_ENDPOINT_URL_LAMBDA = lambda.url;

    // API fronts: closed first on stop (they are pushed last), so no request reaches a stopping pool.
    const apis: Record<string, string> = {};
    for (const api of config.apis ?? []) {
      const running: RunningApi = await startApiGateway(
        api,
        { accountId: config.accountId, pools, metrics },
        { host },
      );
      cleanups.push(() => running.close());
      apis[api.name] = running.url;
    }

    let stopping: Promise<void> | undefined;
    return {
      endpoints: {
        lambda: lambda.url,
        s3: s3.endpoint,
        cloudwatch: cloudwatch.url,
        apis,
        ...(dynamodb ? { dynamodb: dynamodb.endpoint } : {}),
      },
      config,
      logs,
      metrics,
      services,
      pool: (name) => pools.get(name),
      onInvocation(listener) {
        invocationListeners.add(listener);
        return () => invocationListeners.delete(listener);
      },
      stop() {
        stopping ??= undo();
        return stopping;
      },
    };
  } catch (error) {
    await undo();
    throw error;
  }
}

function resolveConfig(source: LabConfigSource, options: StartLabOptions): LabConfig {
  if (typeof source === "string") return loadLabConfig(source);
  if (isValidated(source)) return source;
  return parseLabConfig(source, { file: "<inline config>", baseDir: options.baseDir ?? process.cwd() });
}

function isValidated(source: LabConfig | LabConfigInput): source is LabConfig {
  const fn = source.functions?.[0] as { arn?: unknown } | undefined;
  return fn !== undefined ? typeof fn.arn === "string" : "idleTimeoutSeconds" in source && "ports" in source;
}
