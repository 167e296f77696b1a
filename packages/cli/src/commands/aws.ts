/**
 * The commands that act on real functions (`layer publish`, `enable`, `disable`) talk to Lambda and the tagging
 * API through the AWS SDK, with the SDK's own credential and region chain; --endpoint-url points them elsewhere
 * (the lab, moto). They never reach the engine.
 */
import { LambdaClient } from "@aws-sdk/client-lambda";
import { ResourceGroupsTaggingAPIClient } from "@aws-sdk/client-resource-groups-tagging-api";
import type { Command } from "commander";
import { CliError, UsageError } from "../errors.ts";

export interface AwsOptions {
  region?: string;
  endpointUrl?: string;
}

/** Adds --region and --endpoint-url, as the AWS CLI spells them. */
export function awsOptions(command: Command): Command {
  return command
    .option("--region <region>", "AWS region (default: the SDK's: $AWS_REGION, ~/.aws/config)")
    .option("--endpoint-url <url>", "Lambda (and tagging API) endpoint instead of AWS's: the lab, moto");
}

export function lambdaClient(o: AwsOptions): LambdaClient {
  return new LambdaClient({
    ...(o.region ? { region: o.region } : {}),
    ...(o.endpointUrl ? { endpoint: o.endpointUrl } : {}),
  });
}

export function taggingClient(o: AwsOptions): ResourceGroupsTaggingAPIClient {
  return new ResourceGroupsTaggingAPIClient({
    ...(o.region ? { region: o.region } : {}),
    ...(o.endpointUrl ? { endpoint: o.endpointUrl } : {}),
  });
}

/** An AWS error becomes a CliError naming the call: `PublishLayerVersion: AccessDeniedException: …`. */
export async function aws<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    const e = error as Error & { $metadata?: unknown; code?: string };
    if (e instanceof CliError) throw e;
    if (e.$metadata || e.code) throw new CliError(`${what}: ${e.name}: ${e.message}`);
    throw new CliError(`${what}: ${e.message}`);
  }
}

/** `k=v` → [k, v]. */
export function parseTag(text: string): [string, string] {
  const at = text.indexOf("=");
  if (at <= 0) throw new UsageError(`--tag ${text}: expected key=value`);
  return [text.slice(0, at), text.slice(at + 1)];
}
