import type { Command } from "commander";

/** Where a command writes; tests swap these. */
export interface CliIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

/**
 * One entry of the command table: adds its (sub)commands to the program.
 * A command's action throws CliError/UsageError for failures; main() prints them and sets the exit code.
 */
export interface CliCommand {
  /** e.g. "lab up" — for the help listing and the tests. */
  readonly name: string;
  register(program: Command, io: CliIO): void;
}

/** Returns the parent command `name` under `program`, creating it once: `lab` holds `lab up`, `lab …`. */
export function group(program: Command, name: string, description: string): Command {
  return program.commands.find((c) => c.name() === name) ?? program.command(name).description(description);
}
