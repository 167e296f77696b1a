import { invocationHttpIntegrationResponse } from "../actions/invocation-http-integration-response.ts";
import {
  defineScenario,
  durationSeconds,
  functionsTarget,
  isoSeconds,
  percentage,
  tagKey,
  tagValue,
} from "./scenario.ts";

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
    durationSeconds: durationSeconds(300),
    tagKey: tagKey("FISExperimentReady"),
    tagValue: tagValue("Yes"),
  },
  build: (p) => ({
    description: `dependency outage: ${p.tagKey}=${p.tagValue} answers HTTP ${p.statusCode} to ${p.invocationPercentage} % of invocations`,
    targets: functionsTarget(p.tagKey, p.tagValue),
    actions: {
      outage: {
        actionId: invocationHttpIntegrationResponse.id,
        parameters: {
          duration: isoSeconds(p.durationSeconds),
          statusCode: String(p.statusCode),
          contentTypeHeader: "application/json",
          preventExecution: "true",
          invocationPercentage: String(p.invocationPercentage),
        },
        targets: { Functions: "Functions" },
      },
    },
    tags: {},
  }),
});
