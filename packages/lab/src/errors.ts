/** Named errors of the lab's control side. The Lambda API renders every `LambdaApiError` the same way. */

export interface ConfigIssue {
  /** Field path, e.g. `functions[1].timeout`. */
  field: string;
  message: string;
}

/** A lab config file that cannot be read or does not satisfy the schema. Nothing has been started. */
export class LabConfigError extends Error {
  override readonly name = "LabConfigError";
  constructor(
    /** The file as the user named it (or `<inline>` for an object). */
    readonly file: string,
    readonly issues: ConfigIssue[],
  ) {
    super(issues.map((i) => `${file}: ${i.field ? `${i.field}: ` : ""}${i.message}`).join("\n"));
  }
  /** The first culprit, for callers that want one field. */
  get field(): string {
    return this.issues[0]?.field ?? "";
  }
}

/** An error the Lambda API returns to the caller: `x-amzn-errortype` + Lambda's JSON body. */
export class LambdaApiError extends Error {
  constructor(
    /** e.g. ResourceNotFoundException; sent as x-amzn-errortype. */
    readonly errorType: string,
    readonly status: number,
    message: string,
    /** Lambda spells the message key differently per error (`Message` or `message`), as its model does. */
    readonly messageKey: "Message" | "message" = "Message",
    readonly extra: Record<string, string> = {},
  ) {
    super(message);
    this.name = errorType;
  }
  /** The JSON body Lambda sends for this error. */
  body(): Record<string, string> {
    return { Type: "User", [this.messageKey]: this.message, ...this.extra };
  }
}

export class ResourceNotFoundError extends LambdaApiError {
  constructor(message: string) {
    super("ResourceNotFoundException", 404, message);
  }
  static forFunction(arn: string): ResourceNotFoundError {
    return new ResourceNotFoundError(`Function not found: ${arn}`);
  }
}

/** The throttles the lab applies: the function's reserved concurrency, or the account's concurrency limit. */
export type ThrottleReason =
  | "ReservedFunctionConcurrentInvocationLimitExceeded"
  | "ConcurrentInvocationLimitExceeded";

/** A concurrency limit is exhausted; `Reason` says which, as Lambda's TooManyRequestsException does. */
export class TooManyRequestsError extends LambdaApiError {
  constructor(readonly reason: ThrottleReason = "ReservedFunctionConcurrentInvocationLimitExceeded") {
    super("TooManyRequestsException", 429, "Rate Exceeded.", "message", { Reason: reason });
  }
}

export class RequestTooLargeError extends LambdaApiError {
  constructor(limitBytes: number) {
    super(
      "RequestEntityTooLargeException",
      413,
      `Request must be smaller than ${limitBytes} bytes for the InvokeFunction operation`,
      "message",
    );
  }
}

export class InvalidParameterValueError extends LambdaApiError {
  constructor(message: string) {
    super("InvalidParameterValueException", 400, message);
  }
}

/** A request the lab's guard refuses (a web page, a foreign Host): see http-guard.ts. */
export class AccessDeniedError extends LambdaApiError {
  constructor(message: string) {
    super("AccessDeniedException", 403, message);
  }
}

export class UnknownOperationError extends LambdaApiError {
  constructor(method: string, path: string) {
    super("UnknownOperationException", 404, `Unknown operation ${method} ${path}`);
  }
}

export class ServiceError extends LambdaApiError {
  constructor(message: string) {
    super("ServiceException", 500, message);
  }
}
