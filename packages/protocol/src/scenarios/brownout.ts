import { invocationError } from "../actions/invocation-error.ts";
import { ScenarioError } from "../errors.ts";
import {
  defineScenario,
  type ExperimentTemplateInput,
  functionsTarget,
  isoSeconds,
  MAX_EXPERIMENT_SECONDS,
  tagKey,
  tagValue,
} from "./scenario.ts";

/** Errors that creep up in stages, each a `startAfter` the one before: a dependency browning out. */
export const brownout = defineScenario({
  name: "brownout",
  description:
    "The tagged functions' invocations fail at a rate stepped up in stages (by default 1 % → 5 % → 25 %), each stage an action that starts after the previous one.",
  tellsYou:
    "At which error rate your alarms fire, your retries stop hiding the failures and your callers see them; whether circuit breakers or load shedding open before the worst stage, and whether the stop condition ends the experiment in time.",
  parameters: {
    errorPercentages: {
      type: "percentages",
      description: "The invocation-error rate of each stage, in order (comma-separated percentages).",
      maxItems: 10,
      default: [1, 5, 25],
    },
    stageSeconds: {
      type: "integer",
      description: "How long each stage lasts, in seconds.",
      min: 1,
      max: MAX_EXPERIMENT_SECONDS,
      default: 120,
    },
    preventExecution: {
      type: "text",
      description: 'Whether a failed invocation skips the handler ("true") or runs it first ("false").',
      pattern: /^(true|false)$/,
      rule: '"true" or "false"',
      default: "true",
    },
    tagKey: tagKey("FISExperimentReady"),
    tagValue: tagValue("Yes"),
  },
  check: (p) => {
    if (p.errorPercentages.length * p.stageSeconds > MAX_EXPERIMENT_SECONDS) {
      throw new ScenarioError(
        "stageSeconds",
        `${p.errorPercentages.length} stages of ${p.stageSeconds} s exceed FIS's 12-hour experiment limit`,
      );
    }
  },
  build: (p) => {
    const actions: ExperimentTemplateInput["actions"] = {};
    p.errorPercentages.forEach((rate, i) => {
      actions[`stage${i + 1}`] = {
        actionId: invocationError.id,
        description: `stage ${i + 1}: ${rate} % of invocations fail`,
        parameters: {
          duration: isoSeconds(p.stageSeconds),
          invocationPercentage: String(rate),
          preventExecution: p.preventExecution,
        },
        targets: { Functions: "Functions" },
        ...(i === 0 ? {} : { startAfter: [`stage${i}`] }),
      };
    });
    return {
      description: `brownout: ${p.errorPercentages.map((r) => `${r} %`).join(" → ")} errors, ${p.stageSeconds} s each`,
      targets: functionsTarget(p.tagKey, p.tagValue),
      actions,
      tags: {},
    };
  },
});
