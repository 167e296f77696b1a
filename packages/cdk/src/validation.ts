/**
 * Synth-time validation with the engine's own rules (`@faultline/rules`, the code behind
 * CreateExperimentTemplate). Values CDK only knows at deploy time (tokens: role, bucket, alarm ARNs…) are
 * checked with a stand-in of the right shape; everything literal is checked as the engine would.
 */

import { ServiceQuotaExceededException, ValidationException, validateCreateTemplate } from "@faultline/rules";
import { Token } from "aws-cdk-lib";
import { FaultlinePropsError } from "./errors.ts";

const ACCOUNT = "123456789012";
/** Stand-ins by field name, for values that are tokens at synth time. */
const STAND_INS: Record<string, string> = {
  roleArn: `arn:aws:iam::${ACCOUNT}:role/stand-in`,
  value: `arn:aws:cloudwatch:us-east-1:${ACCOUNT}:alarm:stand-in`,
  resourceArns: `arn:aws:lambda:us-east-1:${ACCOUNT}:function:stand-in`,
  bucketName: "stand-in-bucket",
  dashboardIdentifier: `arn:aws:cloudwatch::${ACCOUNT}:dashboard/stand-in`,
  logGroupArn: `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:stand-in`,
  duration: "PT1M",
  preExperimentDuration: "PT1M",
  postExperimentDuration: "PT1M",
  invocationPercentage: "100",
  startupDelayMilliseconds: "1000",
  statusCode: "500",
  preventExecution: "true",
};

function standIns(value: unknown, key: string): unknown {
  if (typeof value === "string") return Token.isUnresolved(value) ? (STAND_INS[key] ?? "stand-in") : value;
  if (Array.isArray(value)) return value.map((v) => standIns(v, key));
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, standIns(v, k)]));
  }
  return value;
}

/** Throws FaultlinePropsError naming the template field, with the engine's own words. */
export function validateTemplate(construct: string, body: Record<string, unknown>): void {
  try {
    validateCreateTemplate(standIns(body, ""));
  } catch (error) {
    if (error instanceof ValidationException) {
      const detail = error.message.startsWith(`${error.field}: `)
        ? error.message.slice(error.field.length + 2)
        : error.message;
      throw new FaultlinePropsError(construct, error.field, detail);
    }
    if (error instanceof ServiceQuotaExceededException)
      throw new FaultlinePropsError(construct, "", error.message);
    throw error;
  }
}
