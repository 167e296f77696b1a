/** Named errors of the lab's execution-environment side (Runtime API, Extensions API, environments, layers). */

/** An error the Runtime or Extensions API answers with: one shape `{errorMessage, errorType}`, one HTTP status. */
export class ApiError extends Error {
  override readonly name = "ApiError";
  constructor(
    readonly status: number,
    readonly errorType: string,
    readonly errorMessage: string,
  ) {
    super(`${status} ${errorType}: ${errorMessage}`);
  }
}

/** A pending invocation was abandoned: the server was closed or reset before the runtime answered. */
export class InvocationAbortedError extends Error {
  override readonly name = "InvocationAbortedError";
  constructor(
    readonly requestId: string,
    reason: string,
  ) {
    super(`invocation ${requestId} aborted: ${reason}`);
  }
}

/** `invoke()` was given an input the Runtime API cannot carry. `field` names the culprit. */
export class InvocationInputError extends Error {
  override readonly name = "InvocationInputError";
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

/** A layer could not be merged into /opt (missing path, unreadable zip, unsafe entry). */
export class LayerError extends Error {
  override readonly name = "LayerError";
  constructor(
    readonly layer: string,
    message: string,
  ) {
    super(`layer ${layer}: ${message}`);
  }
}

/** The sandbox (mount namespace, process spawn) could not be set up. */
export class SandboxError extends Error {
  override readonly name = "SandboxError";
}

/** aws-lambda-ric, an optional dependency of the published lab (its native build may fail), is not installed. */
export class RuntimeClientMissingError extends Error {
  override readonly name = "RuntimeClientMissingError";
  constructor() {
    super(
      "aws-lambda-ric (the official Node runtime interface client) is not installed: the lab needs it to run " +
        "functions. Install cmake, autoconf, automake, libtool and a C++ compiler, then `npm install aws-lambda-ric`",
    );
  }
}
