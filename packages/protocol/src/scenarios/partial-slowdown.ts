import { invocationAddDelay } from "../actions/invocation-add-delay.ts";
import {
  defineScenario,
  durationSeconds,
  functionsTarget,
  isoSeconds,
  percentage,
  tagKey,
  tagValue,
} from "./scenario.ts";

const delayLimits = invocationAddDelay.parameters.startupDelayMilliseconds;

/** Some functions, some of their invocations, a little slower: the gray failure averages hide. */
export const partialSlowdown = defineScenario({
  name: "partial-slowdown",
  description:
    "A share of the tagged functions (selectionMode PERCENT(n)) start a share of their invocations late by a fixed delay.",
  tellsYou:
    "Whether a slowdown in part of the fleet shows in your tail latency and alarms before it shows in averages, and whether timeouts and retries upstream amplify it (retry storms, queue build-up).",
  parameters: {
    functionPercentage: percentage("The percentage of the tagged functions that slow down.", 50),
    invocationPercentage: percentage("The percentage of those functions' invocations that slow down.", 50),
    delayMilliseconds: {
      type: "integer",
      description: "The delay added before the handler runs, in milliseconds.",
      min: delayLimits.min,
      max: delayLimits.max,
      default: 1000,
    },
    durationSeconds: durationSeconds(300),
    tagKey: tagKey("FISExperimentReady"),
    tagValue: tagValue("Yes"),
  },
  build: (p) => ({
    description: `partial slowdown: ${p.functionPercentage} % of functions, ${p.invocationPercentage} % of invocations, +${p.delayMilliseconds} ms`,
    targets: functionsTarget(p.tagKey, p.tagValue, `PERCENT(${p.functionPercentage})`),
    actions: {
      slowdown: {
        actionId: invocationAddDelay.id,
        parameters: {
          duration: isoSeconds(p.durationSeconds),
          startupDelayMilliseconds: String(p.delayMilliseconds),
          invocationPercentage: String(p.invocationPercentage),
        },
        targets: { Functions: "Functions" },
      },
    },
    tags: {},
  }),
});
