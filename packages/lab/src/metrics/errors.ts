/** Named errors of the lab's metrics side (EMF, metric store, CloudWatch API). */

/** A metric query or datapoint that does not satisfy CloudWatch's rules. `field` names the culprit. */
export class MetricInputError extends Error {
  override readonly name = "MetricInputError";
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

/**
 * An error the CloudWatch API returns to the caller, with CloudWatch's code (`InvalidParameterValue`,
 * `ResourceNotFound`, …) as the awsJson `__type` and the awsQuery-compatible `x-amzn-query-error` header.
 */
export class CloudWatchApiError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = code;
  }
}
