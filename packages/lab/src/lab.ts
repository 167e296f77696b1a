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
import { sweepAbandoned } from "./layers.ts";
import { LogStore } from "./logs.ts";
import {
  type CloudWatchServer,
  ingestEmf,
  MetricStore,
  recordInvocation,
  startCloudWatchServer,
} from "./metrics/index.ts";
import { AccountConcurrency, FunctionPool, type InvocationRecord, type Timers } from "./pool.ts";
import { type RunningS3, S3_CREDENTIALS, startS3 } from "./s3.ts";

export interface StartLabOptions {
  /** How environments are made; defaults to the real one (processes, Runtime API, extensions). */
  environmentFactory?: EnvironmentFactory;
  /** Options of the real environment factory (sandbox mode, init timeout, shutdown grace…). */
  environmentOptions?: EnvironmentFactoryOptions;
  /** Interface for every server; 127.0.0.1 unless you mean to expose the lab. */
  host?: string;
  /** `Host` names accepted besides loopback ones and `host`, added to the config's `allowedHosts`. */
  allowedHosts?: string[];
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
  const net: Network = {
    host: options.host ?? "127.0.0.1",
    // Every server refuses other Host names and requests from web pages (http-guard.ts).
    allowedHosts: [...(config.allowedHosts ?? []), ...(options.allowedHosts ?? [])],
  };
  const factory = options.environmentFactory ?? createEnvironmentFactory(options.environmentOptions);
  const logs = new LogStore();
  const cleanups = new Cleanups();
  try {
    // Scratch dirs of labs killed with SIGKILL go now, not at this lab's first invocation.
    await sweepAbandoned();
    const s3 = await startLabS3(config, net, options, cleanups);
    const { metrics, cloudwatch } = await startLabCloudWatch(config, net, logs, cleanups);
    const dynamodb = await startLabDynamoDb(config, net, cleanups);
    const services = labServices(config, options, { s3, cloudwatch, dynamodb });
    const invocations = new InvocationListeners(metrics);
    const pools = createPools(config, options, { factory, services, logs, invocations }, cleanups);
    const lambda = await startLabLambdaApi(config, net, pools, cleanups);
    // Functions calling Lambda reach the lab. No environment exists yet, so every one sees it.
    services.extraEnvironment.AWS_ENDPOINT_URL_LAMBDA = lambda.url;
    const apis = await startLabApis(config, net, { pools, metrics }, cleanups);

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
      onInvocation: (listener) => invocations.add(listener),
      stop() {
        stopping ??= cleanups.undo();
        return stopping;
      },
    };
  } catch (error) {
    await cleanups.undo();
    throw error;
  }
}

/** Where every lab server listens and which `Host` names it accepts. */
interface Network {
  host: string;
  allowedHosts: string[];
}

/** What started, undone in reverse order (last started, first stopped); a failing step does not stop the rest. */
class Cleanups {
  private readonly steps: Array<() => Promise<void>> = [];

  push(cleanup: () => Promise<void>): void {
    this.steps.push(cleanup);
  }

  async undo(): Promise<void> {
    for (const cleanup of this.steps.splice(0).reverse()) await cleanup().catch(() => undefined);
  }
}

/** Records every invocation as AWS/Lambda metrics, then tells the lab's listeners. */
class InvocationListeners {
  private readonly listeners = new Set<(record: InvocationRecord) => void>();
  private readonly metrics: MetricStore;

  constructor(metrics: MetricStore) {
    this.metrics = metrics;
  }

  readonly notify = (record: InvocationRecord): void => {
    recordInvocation(this.metrics, record);
    for (const listener of this.listeners) listener(record);
  };

  /** Returns the unsubscribe. */
  add(listener: (record: InvocationRecord) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

async function startLabS3(
  config: LabConfig,
  net: Network,
  options: StartLabOptions,
  cleanups: Cleanups,
): Promise<RunningS3> {
  const s3 = await startS3({
    buckets: config.buckets,
    port: config.ports.s3,
    host: net.host,
    allowedHosts: net.allowedHosts,
    ...(options.s3Directory ? { directory: options.s3Directory } : {}),
  });
  cleanups.push(() => s3.close());
  return s3;
}

/**
 * Metrics as CloudWatch keeps them, served over CloudWatch's own API so the engine and reports have one code
 * path for the lab and AWS.
 */
async function startLabCloudWatch(
  config: LabConfig,
  net: Network,
  logs: LogStore,
  cleanups: Cleanups,
): Promise<{ metrics: MetricStore; cloudwatch: CloudWatchServer }> {
  const metrics = new MetricStore();
  const stopEmf = ingestEmf(logs, metrics);
  cleanups.push(async () => stopEmf());
  const cloudwatch = await startCloudWatchServer(metrics, undefined, {
    host: net.host,
    allowedHosts: net.allowedHosts,
    port: config.ports.cloudwatch,
    region: config.region,
    accountId: config.accountId,
  });
  cleanups.push(() => cloudwatch.close());
  // The config's alarms and dashboards, as if put with PutMetricAlarm / PutDashboard.
  for (const alarm of config.alarms ?? []) cloudwatch.service.putAlarm(alarm);
  for (const d of config.dashboards ?? []) cloudwatch.service.putDashboard(d.name, d.body);
  return { metrics, cloudwatch };
}

async function startLabDynamoDb(
  config: LabConfig,
  net: Network,
  cleanups: Cleanups,
): Promise<RunningDynamoDb | undefined> {
  if (!config.dynamodb) return undefined;
  const dynamodb = await startDynamoDb({
    tables: config.dynamodb.tables,
    port: config.dynamodb.port,
    host: net.host,
    allowedHosts: net.allowedHosts,
    region: config.region,
  });
  cleanups.push(() => dynamodb.close());
  return dynamodb;
}

/** What every environment gets injected: endpoints of the lab's services, credentials, region. */
function labServices(
  config: LabConfig,
  options: StartLabOptions,
  running: { s3: RunningS3; cloudwatch: CloudWatchServer; dynamodb: RunningDynamoDb | undefined },
): LabServices {
  const { s3, cloudwatch, dynamodb } = running;
  return {
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
}

/** One pool per function, sharing the account's concurrency limit. */
function createPools(
  config: LabConfig,
  options: StartLabOptions,
  deps: {
    factory: EnvironmentFactory;
    services: LabServices;
    logs: LogStore;
    invocations: InvocationListeners;
  },
  cleanups: Cleanups,
): Map<string, FunctionPool> {
  const pools = new Map<string, FunctionPool>();
  const account = new AccountConcurrency(config.concurrentExecutions);
  for (const spec of config.functions) {
    pools.set(
      spec.name,
      new FunctionPool({
        spec,
        factory: deps.factory,
        services: deps.services,
        logSink: deps.logs,
        idleTimeoutMs: config.idleTimeoutSeconds * 1000,
        account,
        onInvocation: deps.invocations.notify,
        ...(options.timers ? { timers: options.timers } : {}),
      }),
    );
  }
  cleanups.push(async () => {
    await Promise.allSettled([...pools.values()].map((pool) => pool.stop()));
  });
  return pools;
}

async function startLabLambdaApi(
  config: LabConfig,
  net: Network,
  pools: Map<string, FunctionPool>,
  cleanups: Cleanups,
): Promise<RunningServer> {
  const lambda = await startLambdaApi(
    { region: config.region, accountId: config.accountId, pools, startedAt: new Date() },
    { host: net.host, allowedHosts: net.allowedHosts, port: config.ports.lambda },
  );
  // Stop accepting invocations before the pools go down.
  cleanups.push(() => lambda.close());
  return lambda;
}

/** API fronts: closed first on stop (they are pushed last), so no request reaches a stopping pool. */
async function startLabApis(
  config: LabConfig,
  net: Network,
  backends: { pools: Map<string, FunctionPool>; metrics: MetricStore },
  cleanups: Cleanups,
): Promise<Record<string, string>> {
  const apis: Record<string, string> = {};
  for (const api of config.apis ?? []) {
    const running: RunningApi = await startApiGateway(
      api,
      { accountId: config.accountId, pools: backends.pools, metrics: backends.metrics },
      { host: net.host, allowedHosts: net.allowedHosts },
    );
    cleanups.push(() => running.close());
    apis[api.name] = running.url;
  }
  return apis;
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
