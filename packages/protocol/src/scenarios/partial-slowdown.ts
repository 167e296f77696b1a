import { invocationAddDelay } from "../actions/invocation-add-delay.ts";
import { defineScenario, faultWindow, milliseconds, oneFault, percentage } from "./scenario.ts";

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
    delayMilliseconds: milliseconds(
      "The delay added before the handler runs, in milliseconds.",
      invocationAddDelay.parameters.startupDelayMilliseconds,
      1000,
    ),
    ...faultWindow(),
  },
  build: (p) =>
    oneFault(
      p,
      {
        description: `partial slowdown: ${p.functionPercentage} % of functions, ${p.invocationPercentage} % of invocations, +${p.delayMilliseconds} ms`,
        name: "slowdown",
        actionId: invocationAddDelay.id,
        parameters: {
          startupDelayMilliseconds: String(p.delayMilliseconds),
          invocationPercentage: String(p.invocationPercentage),
        },
      },
      `PERCENT(${p.functionPercentage})`,
    ),
});
