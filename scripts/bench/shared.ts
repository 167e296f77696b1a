/** What several benches set up the same way: a fault bucket on s3rver, and a one-action template on tagged functions. */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import S3rver from "s3rver";
import type { Engine } from "../../packages/engine/src/index.ts";

/** The API suites' echo function, deployed by the engine benches into the lab. */
export const FN_DIR = fileURLToPath(new URL("../../packages/api/test/fixtures/fn/", import.meta.url));
/** Any credentials do for the lab and the local API. */
export const BENCH_CREDENTIALS = { accessKeyId: "AKIDTEST", secretAccessKey: "secret" };

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
