/** The `faultline` CLI: a commander program built from the command table in commands/index.ts. */
import { pathToFileURL } from "node:url";
import { FAULTLINE_VERSION } from "@faultline/protocol";
import { Command, CommanderError } from "commander";
import type { CliIO } from "./command.ts";
import { commands } from "./commands/index.ts";
import { CliError } from "./errors.ts";

/** One version for everything: the protocol's, which the layer carries and the engine checks. */
export const VERSION = FAULTLINE_VERSION;

const processIO: CliIO = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

export function buildProgram(io: CliIO = processIO): Command {
  const program = new Command("faultline")
    .description("Fault injection for AWS Lambda, compatible with AWS Fault Injection Service")
    .version(VERSION)
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  for (const command of commands) command.register(program, io);
  // Subcommands inherit exitOverride/output only if set before they are added: apply to all.
  const apply = (c: Command) => {
    c.exitOverride().configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
    c.commands.forEach(apply);
  };
  program.commands.forEach(apply);
  return program;
}

/** Runs the CLI; resolves with the exit code (it never calls process.exit itself). */
export async function main(argv: string[], io: CliIO = processIO): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv, { from: "user" });
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version are "errors" with exit code 0; usage errors get commander's message already printed.
      return error.exitCode === 0 ? 0 : 2;
    }
    if (error instanceof CliError) {
      io.stderr(`faultline: ${error.message}\n`);
      return error.exitCode;
    }
    io.stderr(`faultline: ${(error as Error)?.stack ?? String(error)}\n`);
    return 1;
  }
}

// Run directly (`node --import tsx packages/cli/src/main.ts …`, as `npm run demo` does).
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exit(await main(process.argv.slice(2)));
}
