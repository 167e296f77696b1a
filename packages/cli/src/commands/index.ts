/**
 * The CLI's command table, read top to bottom. To add a command: write `commands/<name>.ts` exporting a CliCommand
 * and add it here. `lab up` and `layer build` launch local things; every other command talks to the API only.
 */
import type { CliCommand } from "../command.ts";
import { labUp } from "./lab-up.ts";
import { layerBuild } from "./layer.ts";

export const commands: CliCommand[] = [
  labUp, // faultline lab up --config <file> [--json]
  layerBuild, // faultline layer build [--out <zip>] [--standalone]
];
