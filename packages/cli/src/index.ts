export type { CliCommand, CliIO } from "./command.ts";
export { group } from "./command.ts";
export { commands } from "./commands/index.ts";
export { CliError, UsageError } from "./errors.ts";
export { buildProgram, main, VERSION } from "./main.ts";
