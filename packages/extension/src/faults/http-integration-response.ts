import type { Fault } from "./fault.ts";

/**
 * aws:lambda:invocation-http-integration-response — the function returns a proxy-integration response.
 * Only the keys API Gateway REST (v1) accepts are used (an extra key makes it answer 502 "Malformed Lambda
 * proxy response"); HTTP API (v2), ALB and VPC Lattice accept the same shape.
 */
export const httpIntegrationResponse: Fault<"aws:lambda:invocation-http-integration-response"> = {
  slot: "outcome",
  inject: (parameters, fault) => {
    const message = `Injected by faultline: HTTP ${parameters.statusCode} (experiment ${fault.experimentId}, action ${fault.actionName})`;
    const body = /json/i.test(parameters.contentTypeHeader) ? JSON.stringify({ message }) : message;
    return {
      kind: "outcome",
      preventExecution: parameters.preventExecution,
      outcome: {
        kind: "response",
        contentType: "application/json",
        body: Buffer.from(
          JSON.stringify({
            statusCode: parameters.statusCode,
            headers: { "Content-Type": parameters.contentTypeHeader },
            body,
            isBase64Encoded: false,
          }),
        ),
      },
    };
  },
};
