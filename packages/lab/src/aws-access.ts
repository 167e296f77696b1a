import type { Lab } from "./lab.ts";
import { S3_CREDENTIALS } from "./s3.ts";

/**
 * What an AWS client of the lab needs, per service: the endpoints and the credentials the lab accepts, and the
 * region and account its ARNs are in. The lab serves the Resource Groups Tagging API (tag:GetResources) on its
 * Lambda endpoint, and its CloudWatch holds the alarms and dashboards over its own metrics.
 */
export function awsAccess(lab: Pick<Lab, "endpoints" | "config">) {
  return {
    region: lab.config.region,
    accountId: lab.config.accountId,
    endpoints: {
      lambda: lab.endpoints.lambda,
      s3: lab.endpoints.s3,
      cloudwatch: lab.endpoints.cloudwatch,
      tagging: lab.endpoints.lambda,
    },
    credentials: S3_CREDENTIALS,
  };
}
