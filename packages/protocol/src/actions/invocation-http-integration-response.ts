import { type CatalogText, defineFaultAction } from "./definition.ts";
import { boolean, integer, invocationPercentage, text } from "./parameters.ts";

/** aws:lambda:invocation-http-integration-response — a proxy-integration response replaces the function's (§1.4). */
export const invocationHttpIntegrationResponse = defineFaultAction(
  "aws:lambda:invocation-http-integration-response",
  {
    // FIS documents "000-999".
    statusCode: integer(0, 999),
    contentTypeHeader: text(),
    preventExecution: boolean(),
    invocationPercentage,
  },
);

export const invocationHttpIntegrationResponseText: CatalogText<typeof invocationHttpIntegrationResponse> = {
  description:
    "Replaces the function response with an HTTP integration response of the given status and content type.",
  parameters: {
    statusCode: "The HTTP status code of the response.",
    contentTypeHeader: "The Content-Type header of the response.",
    preventExecution:
      'If "true", return the response without running the function; if "false", run it first.',
    invocationPercentage: "The percentage of function invocations to inject the fault into.",
  },
};
