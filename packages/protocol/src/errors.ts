/** A fault configuration, location or parameter that does not satisfy the protocol. `field` names the culprit. */
export class FaultConfigError extends Error {
  override readonly name = "FaultConfigError";
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

/** An `AWS_FIS_CONFIGURATION_LOCATION` value that is neither an S3 ARN nor an s3:// URL. */
export class ConfigurationLocationError extends Error {
  override readonly name = "ConfigurationLocationError";
}

/** A scenario name or parameter that does not fit the scenario. `parameter` names the culprit. */
export class ScenarioError extends Error {
  override readonly name = "ScenarioError";
  constructor(
    readonly parameter: string,
    message: string,
  ) {
    super(`${parameter}: ${message}`);
  }
}
