/**
 * What the API's suites share: lab functions wired for the faultline extension, SDK clients for a lab, and the
 * AWS CLI (v1 and v2, found on PATH) as a JSON-speaking client of an endpoint.
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { FisClient } from "@aws-sdk/client-fis";
import { LambdaClient } from "@aws-sdk/client-lambda";
import { ResourceGroupsTaggingAPIClient } from "@aws-sdk/client-resource-groups-tagging-api";
import { S3Client } from "@aws-sdk/client-s3";
import { Engine } from "@faultline/engine";
import type { Lab } from "../../lab/src/index.ts";
import type { Tool } from "../../testing/src/index.ts";
import { startApi } from "../src/index.ts";

export const FN_DIR = fileURLToPath(new URL("./fixtures/fn/", import.meta.url));
export const CREDENTIALS = { accessKeyId: "AKIDTEST", secretAccessKey: "secret" };

/**
 * An engine on SQLite in memory whose AWS endpoints are never reached (nothing listens on port 9): for requests
 * that no experiment follows.
 */
export function offlineEngine(): Promise<Engine> {
  const nowhere = {
    region: "us-east-1",
    endpoint: "http://127.0.0.1:9",
    maxAttempts: 1,
    credentials: CREDENTIALS,
  };
  return Engine.open({
    dataDir: ":memory:",
    lambda: new LambdaClient(nowhere),
    s3: new S3Client(nowhere),
    log: () => {},
  });
}

/** A lab function with the faultline layer attached and configured, polling every second. */
export function faultlineFunction(
  name: string,
  options: { layer: string; tags?: Record<string, string>; environment?: Record<string, string> },
) {
  return {
    name,
    runtime: "nodejs20.x" as const,
    handler: "index.handler",
    code: FN_DIR,
    layers: [options.layer],
    timeout: 10,
    tags: options.tags ?? {},
    environment: {
      AWS_LAMBDA_EXEC_WRAPPER: "/opt/faultline/bootstrap",
      AWS_FIS_CONFIGURATION_LOCATION: "arn:aws:s3:::faults/FisConfigs/",
      AWS_FIS_SLOW_POLL_INTERVAL_SECONDS: "1",
      FAULTLINE_HOT_POLL_INTERVAL_SECONDS: "1",
      ...options.environment,
    },
  };
}

/** SDK clients for a lab's endpoints, as a test (or the engine) would build them. */
export function labClients(lab: Lab) {
  const common = { region: "us-east-1", credentials: CREDENTIALS, maxAttempts: 1 };
  const clients = {
    lambda: new LambdaClient({ ...common, endpoint: lab.endpoints.lambda }),
    // The lab serves tag:GetResources on its Lambda endpoint.
    tagging: new ResourceGroupsTaggingAPIClient({ ...common, endpoint: lab.endpoints.lambda }),
    cloudwatch: new CloudWatchClient({ ...common, endpoint: lab.endpoints.cloudwatch }),
    s3: new S3Client({
      ...common,
      endpoint: lab.endpoints.s3,
      forcePathStyle: true,
      requestChecksumCalculation: "WHEN_REQUIRED",
    }),
  };
  return {
    ...clients,
    destroy() {
      for (const client of Object.values(clients)) client.destroy();
    },
  };
}

/** The engine on a lab's services behind the FIS API, with SDK clients of both: the lab suites' shared setup. */
export async function fisOnLab(lab: Lab, dataDir: string, log: (message: string) => void = () => {}) {
  const clients = labClients(lab);
  const engine = await Engine.open({
    dataDir,
    lambda: clients.lambda,
    s3: clients.s3,
    tagging: clients.tagging,
    log,
  });
  const api = await startApi(engine);
  const fis = new FisClient({
    region: "us-east-1",
    endpoint: api.url,
    credentials: CREDENTIALS,
    maxAttempts: 1,
  });
  return {
    ...clients,
    engine,
    api,
    fis,
    async close() {
      fis.destroy();
      await api.close();
      await engine.close();
      clients.destroy();
    },
  };
}

/** The environment of an AWS CLI run that must not read this machine's profiles or instance metadata. */
export const AWS_CLI_ENV = {
  ...process.env,
  AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
  AWS_DEFAULT_REGION: "us-east-1",
  AWS_EC2_METADATA_DISABLED: "true",
  AWS_CONFIG_FILE: "/dev/null",
  AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
  AWS_PAGER: "",
};

/** `<bin> <service> <args…> --endpoint-url <endpoint> --output json`, parsed. */
export function awsCli(cli: Tool, service: string, endpoint: string) {
  // biome-ignore lint/suspicious/noExplicitAny: the CLI's JSON is read field by field in assertions.
  return async (...args: string[]): Promise<Record<string, any>> => {
    const { stdout } = await promisify(execFile)(
      cli.require(),
      [service, ...args, "--endpoint-url", endpoint, "--output", "json"],
      { env: AWS_CLI_ENV },
    );
    return stdout.trim() === "" ? {} : JSON.parse(stdout);
  };
}
