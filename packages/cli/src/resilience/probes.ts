/** Custom probes of the "after" phase: an HTTP check, a command, a DynamoDB item count ("nothing lost"). */
import { exec } from "node:child_process";
import { DynamoDBClient, ScanCommand } from "@aws-sdk/client-dynamodb";
import { type Verdict, verdict } from "./assertions.ts";
import type { RequestRecord } from "./records.ts";
import type { ProbeSpec } from "./spec.ts";

export interface ProbeContext {
  records: readonly RequestRecord[];
  /** The DynamoDB endpoint (the lab's), for dynamodbCount. */
  dynamodb?: string | undefined;
  /** Where commands run (the test file's directory). */
  cwd: string;
}

export async function runProbe(p: ProbeSpec, ctx: ProbeContext): Promise<Verdict> {
  const what = `probe ${p.name}`;
  if (p.http) {
    const status = await fetch(p.http.url, { signal: AbortSignal.timeout(10_000) })
      .then(async (r) => {
        await r.arrayBuffer();
        return r.status;
      })
      .catch((e: Error) => `no answer (${e.message})`);
    return verdict("after", what, status === p.http.status, `HTTP ${status}`, `HTTP ${p.http.status}`);
  }
  if (p.command) {
    const code = await new Promise<number>((resolve) => {
      exec(p.command!.run, { cwd: ctx.cwd, timeout: 60_000 }, (error) =>
        resolve(error ? Number(error.code ?? 1) : 0),
      );
    });
    return verdict("after", what, code === p.command.exitCode, `exit ${code}`, `exit ${p.command.exitCode}`);
  }
  return dynamodbCount(p, ctx);
}

async function dynamodbCount(p: ProbeSpec, ctx: ProbeContext): Promise<Verdict> {
  const spec = p.dynamodbCount!;
  const what = `probe ${p.name}`;
  if (!ctx.dynamodb)
    return verdict("after", what, false, "no DynamoDB endpoint (the lab config has no dynamodb)", "a count");
  const client = new DynamoDBClient({
    endpoint: ctx.dynamodb,
    region: process.env.AWS_REGION ?? "us-east-1",
    credentials: { accessKeyId: "faultline", secretAccessKey: "faultline" },
    maxAttempts: 1,
  });
  try {
    let count = 0;
    let ExclusiveStartKey: Record<string, never> | undefined;
    do {
      const page = await client.send(
        new ScanCommand({ TableName: spec.table, Select: "COUNT", ExclusiveStartKey }),
      );
      count += page.Count ?? 0;
      ExclusiveStartKey = page.LastEvaluatedKey as typeof ExclusiveStartKey;
    } while (ExclusiveStartKey);
    const succeeded = spec.atLeastSucceeded
      ? ctx.records.filter((r) => r.name === spec.atLeastSucceeded && r.status >= 200 && r.status < 300)
          .length
      : 0;
    const min = Math.max(spec.min ?? 0, succeeded);
    const basis = spec.atLeastSucceeded ? ` (the successful ${spec.atLeastSucceeded} requests)` : "";
    return verdict("after", what, count >= min, `${count} items in ${spec.table}`, `≥ ${min}${basis}`);
  } catch (error) {
    return verdict("after", what, false, `Scan failed: ${(error as Error).message}`, "a count");
  } finally {
    client.destroy();
  }
}
