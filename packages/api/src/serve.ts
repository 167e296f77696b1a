import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { LambdaClient } from "@aws-sdk/client-lambda";
import { ResourceGroupsTaggingAPIClient } from "@aws-sdk/client-resource-groups-tagging-api";
import { S3Client } from "@aws-sdk/client-s3";
import { Engine, type EngineOptions } from "@faultline/engine";
import { CloudWatchMetricSource } from "@faultline/report";
import type { LabView } from "./console.ts";
import { type ApiOptions, type RunningApi, startApi } from "./server.ts";

export interface ServeOptions extends Omit<ApiOptions, "console"> {
  /** The web console at /console/ (on by default); `lab` when it runs in the lab (`faultline up`). */
  console?: { dir?: string; lab?: LabView } | false;
  /** SQLite database and experiment logs. */
  dataDir: string;
  region?: string;
  accountId?: string;
  /**
   * Service endpoints; omitted ones resolve as the AWS SDK does (real AWS, or AWS_ENDPOINT_URL_*). `tagging`
   * (Resource Groups Tagging API, for tag-selected targets) defaults to AWS's only when `lambda` does too: a
   * custom Lambda endpoint may have no tagging API, and then tags are read with ListTags.
   */
  endpoints?: { lambda?: string; s3?: string; cloudwatch?: string; tagging?: string };
  /** Credentials for those services; omitted → the SDK's default provider chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  host?: string;
  port?: number;
  stopConditionPollMs?: number;
  readiness?: EngineOptions["readiness"];
  checkExtensionVersion?: boolean;
  /** Experiment reports: where they are written and whether a PDF is printed (see EngineOptions). */
  reportDir?: string;
  reportPdf?: EngineOptions["reportPdf"];
  clock?: EngineOptions["clock"];
  log?: (message: string) => void;
}

export interface Faultline {
  engine: Engine;
  api: RunningApi;
  /** The FIS endpoint, for `--endpoint-url` / `AWS_ENDPOINT_URL_FIS`. */
  url: string;
  /** The web console's address (`${url}/console/`), or undefined when it is off. */
  consoleUrl: string | undefined;
  /** Stops every experiment (removing its faults), closes the API and the database. */
  close(): Promise<void>;
}

/**
 * Engine + FIS API against the given endpoints: what `faultline serve` and `faultline up` run.
 * One code path for real AWS and the lab: only the endpoints differ.
 */
export async function serveFaultline(options: ServeOptions): Promise<Faultline> {
  const region = options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? "us-east-1";
  const common = {
    region,
    ...(options.credentials ? { credentials: options.credentials } : {}),
    // Each attempt bounded (connect 3 s, then 5 s without a byte), 3 attempts; the engine also bounds every
    // whole call (callTimeoutMs) and cancels a stopping experiment's calls, so nothing waits on a silent AWS.
    maxAttempts: 3,
    requestHandler: { connectionTimeout: 3000, socketTimeout: 5000 },
  };
  const e = options.endpoints ?? {};
  const lambda = new LambdaClient({ ...common, ...(e.lambda ? { endpoint: e.lambda } : {}) });
  const s3 = new S3Client({
    ...common,
    ...(e.s3 ? { endpoint: e.s3, forcePathStyle: true } : {}),
    // Plain PutObject bodies: local S3 servers mishandle aws-chunked uploads.
    requestChecksumCalculation: "WHEN_REQUIRED",
  });
  const cloudwatch = new CloudWatchClient({ ...common, ...(e.cloudwatch ? { endpoint: e.cloudwatch } : {}) });
  const tagging =
    e.tagging || !e.lambda
      ? new ResourceGroupsTaggingAPIClient({ ...common, ...(e.tagging ? { endpoint: e.tagging } : {}) })
      : undefined;
  const engine = await Engine.open({
    dataDir: options.dataDir,
    lambda,
    s3,
    cloudwatch,
    ...(tagging ? { tagging } : {}),
    region,
    ...(options.accountId ? { accountId: options.accountId } : {}),
    ...(options.stopConditionPollMs ? { stopConditionPollMs: options.stopConditionPollMs } : {}),
    ...(options.readiness ? { readiness: options.readiness } : {}),
    ...(options.checkExtensionVersion === false ? { checkExtensionVersion: false } : {}),
    ...(options.reportDir ? { reportDir: options.reportDir } : {}),
    ...(options.reportPdf !== undefined ? { reportPdf: options.reportPdf } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.log ? { log: options.log } : {}),
  });
  let api: RunningApi;
  try {
    api = await startApi(engine, {
      ...options,
      // The console's live chart reads the same CloudWatch the engine's reports read.
      console:
        options.console === false
          ? false
          : { ...options.console, metrics: new CloudWatchMetricSource(cloudwatch) },
    });
  } catch (error) {
    await engine.close();
    throw error;
  }
  return {
    engine,
    api,
    url: api.url,
    consoleUrl: options.console === false ? undefined : `${api.url}/console/`,
    async close() {
      await api.close();
      await engine.close();
      lambda.destroy();
      s3.destroy();
      cloudwatch.destroy();
      tagging?.destroy();
    },
  };
}
