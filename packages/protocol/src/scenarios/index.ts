/**
 * The gray-failure scenario library: parameterised scenarios that build ordinary FIS experiment templates.
 * Adding a scenario = one file in this directory + one line in SCENARIOS.
 */
import { ScenarioError } from "../errors.ts";
import { brownout } from "./brownout.ts";
import { dependencyOutage } from "./dependency-outage.ts";
import { partialSlowdown } from "./partial-slowdown.ts";
import type { Scenario } from "./scenario.ts";
import { slowColdStarts } from "./slow-cold-starts.ts";

export const SCENARIOS: readonly Scenario[] = [partialSlowdown, brownout, dependencyOutage, slowColdStarts];

export function scenarioNamed(name: string): Scenario {
  const found = SCENARIOS.find((s) => s.name === name);
  if (!found) {
    throw new ScenarioError(
      "scenario",
      `"${name}" is not a scenario (there are ${SCENARIOS.map((s) => s.name).join(", ")})`,
    );
  }
  return found;
}

export { ScenarioError } from "../errors.ts";
export {
  type BuildOptions,
  DEFAULT_ROLE_ARN,
  type ExperimentTemplateInput,
  type Scenario,
  type ScenarioParameter,
} from "./scenario.ts";
