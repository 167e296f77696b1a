/**
 * `faultline up --config <lab.json> [--json]`: the lab, the engine and the FIS API together for local work.
 * With --json, stdout is exactly one line {"lambda","s3","cloudwatch","fis","console"} once everything is ready. The FIS port comes
 * from the lab config's `ports.fis` (0 = any free port). Ctrl-C stops experiments (removing their faults),
 * then the API, then the lab — within 10 s (src/shutdown.ts); so does SIGTERM/SIGHUP, or the exit of the
 * process that started it (`npx`).
 */
import type { serveFaultline } from "@faultline/api";
import type { CliCommand } from "../command.ts";
import { readLabConfig } from "../lab-config.ts";
import { untilStopSignal } from "../shutdown.ts";
import { labView } from "./lab-view.ts";

interface UpOptions {
  config: string;
  dataDir: string;
  json?: boolean;
  allowedHost?: string[];
  exitWithParent: boolean;
}

export const up: CliCommand = {
  name: "up",
  register(program, io) {
    program
      .command("up")
      .description("Start the lab, the experiment engine and the FIS API together; Ctrl-C stops them")
      .requiredOption(
        "-c, --config <file>",
        "lab config file (JSON, see docs/lab-config.md); ports.fis sets the API port",
      )
      .option("--data-dir <dir>", "engine database and experiment logs", ".faultline/engine")
      .option(
        "--json",
        "print one JSON line {lambda, s3, cloudwatch, fis, console} when ready, nothing else on stdout",
      )
      .option(
        "--allowed-host <name...>",
        "Host names the lab and the FIS API accept besides loopback ones (added to the config's allowedHosts)",
      )
      .option("--no-exit-with-parent", "keep running when the process that started it exits (nohup, setsid)")
      .action(async (o: UpOptions) => {
        // Imported on use: `faultline --help` and the API-client commands never load the lab or the engine.
        const { awsAccess, startLab } = await import("@faultline/lab");
        const { serveFaultline } = await import("@faultline/api");
        const config = await readLabConfig(o.config);
        // Every server refuses other Host names and requests from web pages (DNS-rebinding defence).
        const allowedHosts = [...(config.allowedHosts ?? []), ...(o.allowedHost ?? [])];
        const lab = await startLab(config, { allowedHosts: o.allowedHost ?? [] });
        const view = labView(lab);
        let f: Awaited<ReturnType<typeof serveFaultline>>;
        try {
          f = await serveFaultline({
            dataDir: o.dataDir,
            port: config.ports.fis,
            allowedHosts,
            // The lab's CloudWatch serves stop conditions and reports; its Lambda endpoint, tag:GetResources.
            ...awsAccess(lab),
            console: { lab: view },
            log: (m) => io.stderr(`faultline engine: ${m}\n`),
          });
        } catch (error) {
          await lab.stop();
          throw error;
        }
        const endpoints = {
          lambda: lab.endpoints.lambda,
          s3: lab.endpoints.s3,
          cloudwatch: lab.endpoints.cloudwatch,
          fis: f.url,
          console: f.consoleUrl,
        };
        io.stdout(
          o.json
            ? `${JSON.stringify(endpoints)}\n`
            : [
                "faultline is up",
                `  lambda      ${endpoints.lambda}`,
                `  s3          ${endpoints.s3}`,
                `  cloudwatch  ${endpoints.cloudwatch}`,
                `  fis         ${endpoints.fis}   (export AWS_ENDPOINT_URL_FIS=${endpoints.fis})`,
                `  console     ${endpoints.console}   (open it in a browser on this machine)`,
                "Ctrl-C to stop.",
                "",
              ].join("\n"),
        );
        // Signals and the parent's exit (npx) end it: experiments stop (removing their faults), then the lab.
        await untilStopSignal(
          async () => {
            await f
              .close()
              .catch((error: unknown) =>
                io.stderr(`error while stopping the engine: ${(error as Error).message}\n`),
              );
            view.close();
            await lab.stop();
          },
          io,
          { exitWithParent: o.exitWithParent },
        );
      });
  },
};
