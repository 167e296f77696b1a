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
    /** The modelled error shape when it differs from the code (several shapes share `ResourceNotFound`). */
    readonly shape: string = SHAPES[code] ?? code,
  ) {
    super(message);
    this.name = code;
  }
}

/** CloudWatch's query error codes → the error shapes of its JSON model. */
const SHAPES: Record<string, string> = {
  InvalidParameterValue: "InvalidParameterValueException",
  MissingParameter: "MissingRequiredParameterException",
  InvalidParameterCombination: "InvalidParameterCombinationException",
  InvalidParameterInput: "DashboardInvalidInputError",
  InvalidNextToken: "InvalidNextToken",
  LimitExceeded: "LimitExceededFault",
};
