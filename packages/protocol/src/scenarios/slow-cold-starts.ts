import { initDelay } from "../actions/init-delay.ts";
import {
  defineScenario,
  durationSeconds,
  functionsTarget,
  isoSeconds,
  percentage,
  tagKey,
  tagValue,
} from "./scenario.ts";

const delayLimits = initDelay.parameters.delayMilliseconds;

/** New execution environments take longer to initialise: scale-out and deploys get slow. Needs faultline's extension. */
export const slowColdStarts = defineScenario({
  name: "slow-cold-starts",
  description:
    "New execution environments of the tagged functions spend longer in Init (faultline:lambda:init-delay, faultline's extension only), within Lambda's 10-second init limit.",
  tellsYou:
    "What your users see when traffic bursts or a deploy forces new environments: whether cold-start latency reaches your p99 and your callers' timeouts, and whether provisioned concurrency or SnapStart-style warming would pay for itself.",
  parameters: {
    delayMilliseconds: {
      type: "integer",
      description: "The time added to each delayed Init phase, in milliseconds.",
      min: delayLimits.min,
      max: delayLimits.max,
      default: 3000,
    },
    environmentPercentage: percentage(
      "The percentage of new execution environments whose Init is delayed.",
      100,
    ),
    durationSeconds: durationSeconds(300),
    tagKey: tagKey("FISExperimentReady"),
    tagValue: tagValue("Yes"),
  },
  build: (p) => ({
    description: `slow cold starts: +${p.delayMilliseconds} ms Init for ${p.environmentPercentage} % of new environments`,
    targets: functionsTarget(p.tagKey, p.tagValue),
    actions: {
      coldStarts: {
        actionId: initDelay.id,
        parameters: {
          duration: isoSeconds(p.durationSeconds),
          delayMilliseconds: String(p.delayMilliseconds),
          invocationPercentage: String(p.environmentPercentage),
        },
        targets: { Functions: "Functions" },
      },
    },
    tags: {},
  }),
});
