/**
 * FIS's modelled errors. The API renders `code` as `x-amzn-errortype` and `status` as the HTTP status,
 * so the SDK and the AWS CLI map them to the same typed exceptions real FIS produces.
 */
export abstract class FisError extends Error {
  abstract readonly code: string;
  abstract readonly status: number;
}

/** Bad input. The message always starts with the offending field's path. */
export class ValidationException extends FisError {
  override readonly name = "ValidationException";
  readonly code = "ValidationException";
  readonly status = 400;
  constructor(
    readonly field: string,
    detail: string,
  ) {
    super(field === "" ? detail : `${field}: ${detail}`);
  }
}

export class ResourceNotFoundException extends FisError {
  override readonly name = "ResourceNotFoundException";
  readonly code = "ResourceNotFoundException";
  readonly status = 404;
}

export class ConflictException extends FisError {
  override readonly name = "ConflictException";
  readonly code = "ConflictException";
  readonly status = 409;
}

/** FIS answers quota breaches with 402. */
export class ServiceQuotaExceededException extends FisError {
  override readonly name = "ServiceQuotaExceededException";
  readonly code = "ServiceQuotaExceededException";
  readonly status = 402;
}

/** A bug or an unexpected dependency failure; rendered as a 500 without internals. */
export class InternalServerException extends FisError {
  override readonly name = "InternalServerException";
  readonly code = "InternalServerException";
  readonly status = 500;
}
