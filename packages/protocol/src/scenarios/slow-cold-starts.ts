import { initDelay } from "../actions/init-delay.ts";
import { defineScenario, faultWindow, milliseconds, oneFault, percentage } from "./scenario.ts";

/** New execution environments take longer to initialise: scale-out and deploys get slow. Needs faultline's extension. */
export const slowColdStarts = defineScenario({
  name: "slow-cold-starts",
  description:
    "New execution environments of the tagged functions spend longer in Init (faultline:lambda:init-delay, faultline's extension only), within Lambda's 10-second init limit.",
  tellsYou:
    "What your users see when traffic bursts or a deploy forces new environments: whether cold-start latency reaches your p99 and your callers' timeouts, and whether provisioned concurrency or SnapStart-style warming would pay for itself.",
  parameters: {
    delayMilliseconds: milliseconds(
      "The time added to each delayed Init phase, in milliseconds.",
      initDelay.parameters.delayMilliseconds,
      3000,
    ),
    environmentPercentage: percentage(
      "The percentage of new execution environments whose Init is delayed.",
      100,
    ),
    ...faultWindow(),
  },
  build: (p) =>
    oneFault(p, {
      description: `slow cold starts: +${p.delayMilliseconds} ms Init for ${p.environmentPercentage} % of new environments`,
      name: "coldStarts",
      actionId: initDelay.id,
      parameters: {
        delayMilliseconds: String(p.delayMilliseconds),
        invocationPercentage: String(p.environmentPercentage),
      },
    }),
});
