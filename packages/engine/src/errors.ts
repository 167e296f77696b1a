/**
 * The engine's own errors. FIS's modelled errors (ValidationException and the rest) live with the template
 * rules in @faultline/rules; they are re-exported here so the engine's callers keep one import.
 */
export {
  ConflictException,
  FisError,
  InternalServerException,
  ResourceNotFoundException,
  ServiceQuotaExceededException,
  ValidationException,
} from "@faultline/rules";

/** An AWS call that got no answer within the engine's deadline (the SDK's own retries included). */
export class AwsCallTimeoutError extends Error {
  override readonly name = "AwsCallTimeoutError";
  constructor(
    readonly operation: string,
    readonly timeoutMs: number,
  ) {
    super(`${operation} did not answer within ${timeoutMs} ms`);
  }
}

/** Why an experiment's in-flight AWS calls were cancelled: it is being stopped, or the engine shuts down. */
export class CallCancelledError extends Error {
  override readonly name = "CallCancelledError";
}
