/**
 * `faultline serve`: the engine + FIS API in the foreground, against real AWS or any endpoints given.
 * Ctrl-C (or SIGTERM) stops every experiment (removing its faults) before exiting, within 10 s whatever AWS does.
 */
import type { CliCommand } from "../command.ts";
import { UsageError } from "../errors.ts";
import { untilStopSignal } from "../shutdown.ts";

interface ServeCliOptions {
  dataDir: string;
  port: string;
  host: string;
  region?: string;
  lambdaEndpoint?: string;
  s3Endpoint?: string;
  cloudwatchEndpoint?: string;
  taggingEndpoint?: string;
  expectedBucket?: string;
  extensionVersionCheck: boolean;
  requireAllTargetsReady?: boolean;
  accessKeyId?: string[];
  verifySignatures?: boolean;
  json?: boolean;
}

export const serve: CliCommand = {
  name: "serve",
  register(program, io) {
    program
      .command("serve")
      .description("Run the experiment engine and the FIS-compatible API (Ctrl-C stops it)")
      .option("--data-dir <dir>", "SQLite database and experiment logs", ".faultline/engine")
      .option("--port <port>", "API port (0 = any free port)", "0")
      .option("--host <address>", "interface to listen on", "127.0.0.1")
      .option("--region <region>", "AWS region of the targets")
      .option("--lambda-endpoint <url>", "Lambda API endpoint (default: AWS)")
      .option("--s3-endpoint <url>", "S3 endpoint (default: AWS)")
      .option("--cloudwatch-endpoint <url>", "CloudWatch endpoint for stop-condition alarms (default: AWS)")
      .option(
        "--tagging-endpoint <url>",
        "Resource Groups Tagging API endpoint for tag-selected targets (default: AWS; with only --lambda-endpoint given, tags are read with ListTags)",
      )
      .option(
        "--expected-bucket <bucket>",
        "readiness: a target whose AWS_FIS_CONFIGURATION_LOCATION names another bucket is not ready",
      )
      .option(
        "--no-extension-version-check",
        "readiness: do not read the faultline layer's version (needs lambda:GetLayerVersion)",
      )
      .option(
        "--require-all-targets-ready",
        "readiness: fail an action when any target is not ready (default: leave those out and inject into the rest)",
      )
      .option("--access-key-id <id...>", "only serve requests signed with these access key ids")
      .option(
        "--verify-signatures",
        "verify every request's SigV4 signature against $FAULTLINE_API_ACCESS_KEY_ID / $FAULTLINE_API_SECRET_ACCESS_KEY",
      )
      .option("--json", 'print one JSON line {"fis": url, "console": url} when ready')
      .action(async (o: ServeCliOptions) => {
        const port = Number(o.port);
        if (!Number.isInteger(port) || port < 0 || port > 65535)
          throw new UsageError(`--port ${o.port}: not a port`);
        let credentials: Record<string, string> | undefined;
        if (o.verifySignatures) {
          const id = process.env.FAULTLINE_API_ACCESS_KEY_ID;
          const secret = process.env.FAULTLINE_API_SECRET_ACCESS_KEY;
          if (!id || !secret) {
            throw new UsageError(
              "--verify-signatures needs FAULTLINE_API_ACCESS_KEY_ID and FAULTLINE_API_SECRET_ACCESS_KEY",
            );
          }
          credentials = { [id]: secret };
        }
        const { serveFaultline } = await import("@faultline/api");
        const f = await serveFaultline({
          dataDir: o.dataDir,
          host: o.host,
          port,
          ...(o.region ? { region: o.region } : {}),
          endpoints: {
            ...(o.lambdaEndpoint ? { lambda: o.lambdaEndpoint } : {}),
            ...(o.s3Endpoint ? { s3: o.s3Endpoint } : {}),
            ...(o.cloudwatchEndpoint ? { cloudwatch: o.cloudwatchEndpoint } : {}),
            ...(o.taggingEndpoint ? { tagging: o.taggingEndpoint } : {}),
          },
          readiness: {
            ...(o.expectedBucket ? { expectedBucket: o.expectedBucket } : {}),
            ...(o.requireAllTargetsReady ? { requireAllTargetsReady: true } : {}),
          },
          ...(o.extensionVersionCheck ? {} : { checkExtensionVersion: false }),
          auth: {
            ...(o.accessKeyId ? { accessKeyIds: o.accessKeyId } : {}),
            ...(credentials ? { credentials } : {}),
          },
          // A browser cannot sign requests: with a caller check the console could not work, so it is off.
          ...(o.accessKeyId || credentials ? { console: false as const } : {}),
          log: (m) => io.stderr(`faultline engine: ${m}\n`),
        });
        io.stdout(
          o.json
            ? `${JSON.stringify({ fis: f.url, console: f.consoleUrl })}\n`
            : `faultline engine + FIS API at ${f.url}\n${f.consoleUrl ? `console at ${f.consoleUrl}\n` : ""}Ctrl-C to stop.\n`,
        );
        await untilStopSignal(() => f.close(), io);
      });
  },
};
