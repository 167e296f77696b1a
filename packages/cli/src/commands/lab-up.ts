/**
 * `faultline lab up --config <file> [--json]`: runs the lab in the foreground until Ctrl-C / SIGTERM.
 * With --json, stdout is exactly one line {"lambda":"…","s3":"…"} once the lab is ready (function logs go to stderr
 * only with --logs). A config that does not validate → the error, exit 2, nothing started.
 */
import type { Lab } from "@faultline/lab";
import type { CliCommand, CliIO } from "../command.ts";
import { group } from "../command.ts";
import { CliError } from "../errors.ts";
import { readLabConfig } from "../lab-config.ts";
import { untilStopSignal } from "../shutdown.ts";

interface LabUpOptions {
  config: string;
  json?: boolean;
  logs?: boolean;
  host?: string;
  allowedHost?: string[];
  exitWithParent?: boolean;
}

export const labUp: CliCommand = {
  name: "lab up",
  register(program, io) {
    group(program, "lab", "Run the local Lambda lab")
      .command("up")
      .description("Start the lab (Lambda API, S3, functions) in the foreground; Ctrl-C stops it")
      .requiredOption("-c, --config <file>", "lab config file (JSON, see docs/lab-config.md)")
      .option("--json", "print one JSON line with the endpoints when ready, nothing else on stdout")
      .option("--logs", "with --json: also print function logs (to stderr)")
      .option("--host <address>", "interface to listen on", "127.0.0.1")
      .option(
        "--allowed-host <name...>",
        "Host names the lab's servers accept besides loopback ones (added to the config's allowedHosts)",
      )
      .option("--no-exit-with-parent", "keep running when the process that started it exits (nohup, setsid)")
      .action((options: LabUpOptions) => runLabUp(options, io));
  },
};

export async function runLabUp(options: LabUpOptions, io: CliIO): Promise<void> {
  // Loaded here, not at the top: the lab package is heavy and other commands do not need it.
  const { startLab } = await import("@faultline/lab");
  const config = await readLabConfig(options.config);
  let lab: Lab;
  try {
    lab = await startLab(config, {
      host: options.host ?? "127.0.0.1",
      ...(options.allowedHost ? { allowedHosts: options.allowedHost } : {}),
    });
  } catch (error) {
    const { code, port } = error as { code?: string; port?: number };
    if (code === "EADDRINUSE") {
      throw new CliError(
        `port ${port} is already in use: change ports.lambda / ports.s3 in ${options.config} (0 = any free port)`,
      );
    }
    throw error;
  }
  const stopped = stopOnSignals(lab, io, options.exitWithParent !== false);
  if (options.json) {
    io.stdout(
      `${JSON.stringify({ lambda: lab.endpoints.lambda, s3: lab.endpoints.s3, cloudwatch: lab.endpoints.cloudwatch })}\n`,
    );
  } else {
    io.stdout(
      [
        "faultline lab is up",
        `  lambda  ${lab.endpoints.lambda}`,
        `  s3      ${lab.endpoints.s3}`,
        `  cloudwatch ${lab.endpoints.cloudwatch}`,
        `  functions: ${config.functions.map((f) => f.name).join(", ") || "(none)"}`,
        `  buckets:   ${config.buckets.join(", ") || "(none)"}`,
        "Ctrl-C to stop.",
        "",
      ].join("\n"),
    );
  }
  if (!options.json || options.logs) {
    const write = options.json ? io.stderr : io.stdout;
    lab.logs.subscribe((e) => write(`[${e.functionName}] ${e.message.replace(/\n$/, "")}\n`));
  }
  await stopped;
}

/**
 * Resolves once the lab has stopped after SIGINT/SIGTERM/SIGHUP or the parent's exit (see shutdown.ts); a
 * second signal exits at once.
 */
async function stopOnSignals(lab: Lab, io: CliIO, exitWithParent: boolean): Promise<void> {
  const stopLab = () =>
    lab.stop().catch((error: unknown) => {
      io.stderr(`error while stopping the lab: ${(error as Error).message}\n`);
    });
  // A crash of the CLI still takes the lab's environments down (they also die with us: pdeathsig).
  const crashed = new Promise<void>((resolve) =>
    process.once("uncaughtException", (error) => {
      io.stderr(`faultline: ${error.stack ?? error.message}\n`);
      process.exitCode = 1;
      resolve();
    }),
  );
  await Promise.race([untilStopSignal(stopLab, io, { exitWithParent }), crashed.then(stopLab)]);
}
