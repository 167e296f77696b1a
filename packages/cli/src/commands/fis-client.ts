/** How the CLI reaches the FIS API: @aws-sdk/client-fis at --endpoint / AWS_ENDPOINT_URL_FIS, nothing else. */
import { FisClient } from "@aws-sdk/client-fis";
import type { Command } from "commander";
import { CliError, UsageError } from "../errors.ts";

export interface ClientOptions {
  endpoint?: string;
  region?: string;
  json?: boolean;
}

/** Adds the options every API command takes. */
export function clientOptions(command: Command): Command {
  return command
    .option("--endpoint <url>", "FIS API endpoint (default: $AWS_ENDPOINT_URL_FIS, then $FAULTLINE_ENDPOINT)")
    .option("--region <region>", "region to sign requests for", process.env.AWS_REGION ?? "us-east-1")
    .option("--json", "print the API response as JSON");
}

/** The FIS API's URL: --endpoint, then $AWS_ENDPOINT_URL_FIS, then $FAULTLINE_ENDPOINT. */
export function endpointOf(options: ClientOptions): string {
  const endpoint = options.endpoint ?? process.env.AWS_ENDPOINT_URL_FIS ?? process.env.FAULTLINE_ENDPOINT;
  if (!endpoint) {
    throw new UsageError(
      "no FIS endpoint: pass --endpoint <url> or set AWS_ENDPOINT_URL_FIS (faultline up prints it)",
    );
  }
  return endpoint;
}

export function connect(options: ClientOptions): FisClient {
  const endpoint = endpointOf(options);
  const haveKeys = process.env.AWS_ACCESS_KEY_ID && process.env.AWS_SECRET_ACCESS_KEY;
  return new FisClient({
    endpoint,
    region: options.region ?? "us-east-1",
    maxAttempts: 1,
    // The local API accepts any credentials unless told otherwise; don't make people invent some.
    ...(haveKeys ? {} : { credentials: { accessKeyId: "faultline", secretAccessKey: "faultline" } }),
  });
}

/** Runs one API call; FIS errors become CliErrors carrying the exception name and message. */
export async function call<T>(client: FisClient, fn: (c: FisClient) => Promise<T>): Promise<T> {
  try {
    return await fn(client);
  } catch (error) {
    const e = error as Error & { $metadata?: unknown; code?: string };
    if (e.code === "ECONNREFUSED") throw new CliError(`cannot reach the FIS API: ${e.message}`);
    if (e.$metadata) throw new CliError(`${e.name}: ${e.message}`);
    throw error;
  }
}

/** JSON for scripts: Dates as ISO strings, SDK metadata dropped. */
export function toJson(value: unknown): string {
  return `${JSON.stringify(value, (k, v) => (k === "$metadata" ? undefined : v), 2)}\n`;
}

/** `PT1H2M3.5S` / `P1D` → ms (the subset FIS templates use); undefined if unparseable. */
export function durationMs(text: string | undefined): number | undefined {
  const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(text ?? "");
  if (!m) return undefined;
  const [, d, h, min, s] = m;
  return ((Number(d ?? 0) * 24 + Number(h ?? 0)) * 3600 + Number(min ?? 0) * 60 + Number(s ?? 0)) * 1000;
}

export function table(rows: string[][]): string {
  if (rows.length === 0) return "";
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return `${rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join("  ")).join("\n")}\n`;
}
