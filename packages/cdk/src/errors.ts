/**
 * A construct's props break one of the rules the faultline engine (and FIS) apply. Thrown while the app is
 * constructed, so `cdk synth` fails before anything is deployed. `field` is the template path (API casing,
 * e.g. `actions.delay.parameters.invocationPercentage`) or the prop's name.
 */
export class FaultlinePropsError extends Error {
  override readonly name = "FaultlinePropsError";
  constructor(
    readonly construct: string,
    readonly field: string,
    detail: string,
  ) {
    super(`${construct}: ${field === "" ? detail : `${field}: ${detail}`}`);
  }
}

/** A CloudFormation experiment template that cannot be turned into a FIS API request. */
export class CloudFormationTemplateError extends Error {
  override readonly name = "CloudFormationTemplateError";
}
