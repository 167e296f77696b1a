import { invocationHttpIntegrationResponse } from "../actions/invocation-http-integration-response.ts";
import { defineScenario, faultWindow, oneFault, percentage } from "./scenario.ts";

/** One tier answers 503/504 through its API integration: what a dependency outage looks like to its callers. */
export const dependencyOutage = defineScenario({
  name: "dependency-outage",
  description:
    "The functions of one tier (selected by tag) answer their API integration with HTTP 503 or 504 instead of running.",
  tellsYou:
    "Whether callers of that tier degrade gracefully (fallbacks, cached answers, clear errors) or fail as a whole; whether retries with backoff or a circuit breaker keep the outage from spreading, and whether your alarms name the tier that is down.",
  parameters: {
    statusCode: {
      type: "integer",
      description: "The HTTP status the tier answers with (503 Service Unavailable, 504 Gateway Timeout, …).",
      min: 500,
      max: 599,
      default: 503,
    },
    invocationPercentage: percentage("The percentage of the tier's invocations that fail.", 100),
    ...faultWindow(),
  },
  build: (p) =>
    oneFault(p, {
      description: `dependency outage: ${p.tagKey}=${p.tagValue} answers HTTP ${p.statusCode} to ${p.invocationPercentage} % of invocations`,
      name: "outage",
      actionId: invocationHttpIntegrationResponse.id,
      parameters: {
        statusCode: String(p.statusCode),
        contentTypeHeader: "application/json",
        preventExecution: "true",
        invocationPercentage: String(p.invocationPercentage),
      },
    }),
});
