/**
 * `faultline scenarios list|show|create`: the gray-failure scenario library. `show` prints the FIS template a
 * scenario builds; `create` creates it through the FIS API, like `templates create`.
 */
import { CreateExperimentTemplateCommand } from "@aws-sdk/client-fis";
import {
  type BuildOptions,
  SCENARIOS,
  type Scenario,
  ScenarioError,
  scenarioNamed,
} from "@faultline/protocol/scenarios";
import type { Command } from "commander";
import type { CliCommand, CliIO } from "../command.ts";
import { group } from "../command.ts";
import { UsageError } from "../errors.ts";
import { type ClientOptions, call, clientOptions, connect, table, toJson } from "./fis-client.ts";

interface BuildFlags {
  param: string[];
  roleArn?: string;
  stopAlarm: string[];
}

const collect = (value: string, previous: string[]) => [...previous, value];

function buildFlags(command: Command): Command {
  return command
    .option("-p, --param <key=value>", "a scenario parameter (repeat for several)", collect, [])
    .option("--role-arn <arn>", "the IAM role FIS assumes (default: the lab account's placeholder role)")
    .option("--stop-alarm <arn>", "a CloudWatch alarm that stops the experiment (repeatable)", collect, []);
}

/** `--param a=1 --param b=2` → { a: "1", b: "2" }; the scenario's rules are checked when it builds. */
function parseParams(pairs: string[], scenario: Scenario): Record<string, string> {
  const params: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new UsageError(`--param "${pair}": expected key=value`);
    const key = pair.slice(0, eq).trim();
    // A repeated key would silently keep only the last value (e.g. brownout's stages given one by one).
    if (Object.hasOwn(params, key)) {
      const spec = scenario.parameters[key];
      const list =
        spec?.type === "percentages" ? ` (a list is one value: ${key}=${spec.default.join(",")})` : "";
      throw new UsageError(`--param ${key}: given twice${list}`);
    }
    params[key] = pair.slice(eq + 1);
  }
  return params;
}

/** The scenario's template, with scenario errors as usage errors (exit 2, nothing created). */
export function scenarioTemplate(name: string, flags: BuildFlags) {
  try {
    const options: BuildOptions = { stopAlarms: flags.stopAlarm };
    if (flags.roleArn) options.roleArn = flags.roleArn;
    const scenario = scenarioNamed(name);
    return scenario.build(parseParams(flags.param, scenario), options);
  } catch (error) {
    if (error instanceof ScenarioError) throw new UsageError(`scenario ${name}: ${error.message}`);
    throw error;
  }
}

function describe(s: Scenario): string {
  const rule = (p: Scenario["parameters"][string]) =>
    p.type === "integer"
      ? `${p.min}-${p.max}, default ${p.default}`
      : p.type === "percentages"
        ? `up to ${p.maxItems} percentages, default ${p.default.join(",")}`
        : `${p.rule}, default "${p.default}"`;
  const params = table(
    Object.entries(s.parameters).map(([k, p]) => [`  ${k}`, `${p.description} — ${rule(p)}`]),
  );
  return `${s.name}\n\n${s.description}\n\nWhat it tells you: ${s.tellsYou}\n\nParameters (--param key=value):\n${params}`;
}

export const scenarios: CliCommand = {
  name: "scenarios",
  register(program, io: CliIO) {
    const g = group(program, "scenarios", "Gray-failure scenarios that build FIS experiment templates");
    g.command("list")
      .description("List the scenarios")
      .option("--json", "print names, descriptions and parameters as JSON")
      .action((o: { json?: boolean }) => {
        if (o.json) return io.stdout(toJson(SCENARIOS));
        io.stdout(table([["NAME", "DESCRIPTION"], ...SCENARIOS.map((s) => [s.name, s.description])]));
      });
    buildFlags(g.command("show <name>").description("Describe a scenario and print the template it builds"))
      .option("--template-only", "print only the template JSON (for templates create -f)")
      .action((name: string, o: BuildFlags & { templateOnly?: boolean }) => {
        const template = scenarioTemplate(name, o);
        if (!o.templateOnly) io.stdout(`${describe(scenarioNamed(name))}\nTemplate:\n`);
        io.stdout(toJson(template));
      });
    clientOptions(
      buildFlags(
        g.command("create <name>").description("Create the scenario's template through the FIS API"),
      ),
    ).action(async (name: string, o: BuildFlags & ClientOptions) => {
      const template = scenarioTemplate(name, o);
      const out = await call(connect(o), (c) =>
        c.send(new CreateExperimentTemplateCommand(template as never)),
      );
      io.stdout(o.json ? toJson(out.experimentTemplate) : `${out.experimentTemplate?.id}\n`);
    });
  },
};
