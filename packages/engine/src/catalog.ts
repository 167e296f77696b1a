/** What ListActions / GetAction and ListTargetResourceTypes / GetTargetResourceType return: one explicit table. */

export interface ActionDescription {
  id: string;
  description: string;
  parameters: Record<string, { description: string; required: boolean }>;
  targets: Record<string, { resourceType: string }>;
}

const duration = {
  description: "The duration of the action, in ISO 8601 format, e.g. PT5M.",
  required: true,
};
const percentage = {
  description: "The percentage (1-100) of function invocations to inject the fault into. Default 100.",
  required: false,
};
const preventExecution = {
  description: 'If "true", return without running the function; if "false", run it, then apply the fault.',
  required: true,
};
const functions = { Functions: { resourceType: "aws:lambda:function" } };

export const ACTIONS: readonly ActionDescription[] = [
  {
    id: "aws:fis:wait",
    description: "Runs the AWS FIS wait action.",
    parameters: { duration },
    targets: {},
  },
  {
    id: "aws:lambda:invocation-add-delay",
    description: "Delays starting a function for a number of milliseconds that you specify.",
    parameters: {
      duration,
      invocationPercentage: percentage,
      startupDelayMilliseconds: {
        description: "Milliseconds (0-900000) to wait before running the function code. Default 1000.",
        required: false,
      },
    },
    targets: functions,
  },
  {
    id: "aws:lambda:invocation-error",
    description: "Marks Lambda function invocations as failed.",
    parameters: { duration, invocationPercentage: percentage, preventExecution },
    targets: functions,
  },
  {
    id: "aws:lambda:invocation-http-integration-response",
    description:
      "Replaces the function response with an HTTP integration response of the given status and content type.",
    parameters: {
      duration,
      invocationPercentage: percentage,
      preventExecution,
      statusCode: { description: "HTTP status code (000-999) of the response.", required: true },
      contentTypeHeader: { description: "Content-Type header of the response.", required: true },
    },
    targets: functions,
  },
];

export interface TargetResourceTypeDescription {
  resourceType: string;
  description: string;
  parameters: Record<string, { description: string; required: boolean }>;
}

export const TARGET_RESOURCE_TYPES: readonly TargetResourceTypeDescription[] = [
  {
    resourceType: "aws:lambda:function",
    description: "An AWS Lambda function",
    parameters: {
      functionQualifier: {
        description: "The version or alias of the function to target; $LATEST for the unqualified function.",
        required: false,
      },
    },
  },
];
