/** What several benches set up the same way: a fault bucket on s3rver, and a one-action template on tagged functions. */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { LambdaClient } from "@aws-sdk/client-lambda";
import { ResourceGroupsTaggingAPIClient } from "@aws-sdk/client-resource-groups-tagging-api";
import { S3Client } from "@aws-sdk/client-s3";
import S3rver from "s3rver";
import type { Engine } from "../../packages/engine/src/index.ts";
import { type Lab, S3_CREDENTIALS } from "../../packages/lab/src/index.ts";

/** The API suites' echo function, deployed by the engine benches into the lab. */
export const FN_DIR = fileURLToPath(new URL("../../packages/api/test/fixtures/fn/", import.meta.url));
/** Any credentials do for the lab and the local API. */
export const BENCH_CREDENTIALS = { accessKeyId: "AKIDTEST", secretAccessKey: "secret" };

/** The SDK clients an engine needs, on a lab's endpoints. */
export function labSdkClients(lab: Pick<Lab, "endpoints">, options: { maxAttempts?: number } = {}) {
  const common = { region: "us-east-1", credentials: BENCH_CREDENTIALS, ...options };
  const lambda = new LambdaClient({ ...common, endpoint: lab.endpoints.lambda });
  // The lab serves tag:GetResources on its Lambda endpoint, as `faultline up` wires it.
  const tagging = new ResourceGroupsTaggingAPIClient({ ...common, endpoint: lab.endpoints.lambda });
  const s3 = new S3Client({
    ...common,
    credentials: S3_CREDENTIALS,
    endpoint: lab.endpoints.s3,
    forcePathStyle: true,
    requestChecksumCalculation: "WHEN_REQUIRED",
  });
  return {
    lambda,
    tagging,
    s3,
    destroy() {
      lambda.destroy();
      tagging.destroy();
      s3.destroy();
    },
  };
}

/** s3rver on loopback with a `faults` bucket under `dir`/s3 (the extension's benches' fault store). */
export async function startFaultBucket(dir: string): Promise<{ endpoint: string; close(): Promise<void> }> {
  const s3 = new S3rver({
    port: 0,
    address: "127.0.0.1",
    silent: true,
    directory: join(dir, "s3"),
    configureBuckets: [{ name: "faults" }],
  });
  const endpoint = `http://127.0.0.1:${(await s3.run()).port}`;
  return { endpoint, close: () => s3.close() };
}

/** A template running `actionId` on every function tagged `tag`, as the engine's benches create it. */
export function benchTemplate(
  engine: Engine,
  tag: Record<string, string>,
  action: { name: string; actionId: string; parameters: Record<string, string> },
  description = "bench",
) {
  return engine.createExperimentTemplate({
    description,
    roleArn: "arn:aws:iam::123456789012:role/fis",
    stopConditions: [{ source: "none" }],
    targets: { fns: { resourceType: "aws:lambda:function", resourceTags: tag, selectionMode: "ALL" } },
    actions: {
      [action.name]: {
        actionId: action.actionId,
        parameters: action.parameters,
        targets: { Functions: "fns" },
      },
    },
  });
}
